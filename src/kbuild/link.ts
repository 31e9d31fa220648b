import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { kbuildVariables, type KbuildTarget } from '../kernel/kbuild-vars.js';
import { runInToolchain, type Toolchain } from '../kernel/toolchain.js';

// Linking the livepatch module as an external module of the prepared
// release tree (`modules_prepare` done, the release's Module.symvers in it):
// the tree's own kbuild, host programs and linker script, whatever version
// of Debian's linux-kbuild package the archive still serves. modpost is told
// to only warn about the symbols the post-link step turns into livepatch
// relocations.

export interface LinkInput extends KbuildTarget {
  /** A prepared kernel tree: an external module build writes nothing in it. */
  tree: string;
  toolchain?: Toolchain;
  dir: string;
  moduleName: string;
  files: Record<string, string | Uint8Array>;
  signal?: AbortSignal;
}

export async function linkModule(i: LinkInput): Promise<string> {
  await fsp.mkdir(i.dir, { recursive: true });
  for (const [name, content] of Object.entries(i.files)) await fsp.writeFile(path.join(i.dir, name), content);
  await runInToolchain(i.toolchain ?? { kind: 'host' }, 'make', ['-C', i.tree, `M=${i.dir}`, ...kbuildVariables(i), 'KBUILD_MODPOST_WARN=1', 'modules'], { cwd: i.dir, ...(i.signal ? { signal: i.signal } : {}) });
  return path.join(i.dir, `${i.moduleName}.ko`);
}
