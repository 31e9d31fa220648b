import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kbuildVariables, type KbuildTarget } from '../kernel/kbuild-vars.js';
import { runInToolchain, type Toolchain } from '../kernel/toolchain.js';

// Compile one translation unit with the kernel's own flags, through kbuild,
// plus one section per function and per data object (what the differ needs).

export const DIFF_CFLAGS = '-ffunction-sections -fdata-sections';

export interface CompileOptions extends KbuildTarget {
  /** Where the compiler runs: the host, or the release's build root. */
  toolchain?: Toolchain;
  jobs?: number;
  signal?: AbortSignal;
}

/** `make path/file.o` in a snapshot tree; returns the object's path. */
export async function compileObject(tree: string, objRel: string, o: CompileOptions): Promise<string> {
  const out = path.join(tree, objRel);
  // kbuild decides from timestamps; a replaced source is newer, but an object
  // left by an earlier compile of another version must go.
  await fsp.rm(out, { force: true });
  await runInToolchain(o.toolchain ?? { kind: 'host' }, 'make', ['-C', tree, `-j${o.jobs ?? os.cpus().length}`, ...kbuildVariables(o), `KCFLAGS=${DIFF_CFLAGS}`, objRel], {
    cwd: tree,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return out;
}

/** `fs/proc/cmdline.c` → `fs/proc/cmdline.o` */
export const objectFor = (sourceRel: string): string => sourceRel.replace(/\.c$/, '.o');
