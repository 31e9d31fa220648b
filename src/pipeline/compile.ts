import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { readElfFile } from '../elf/files.js';
import type { ElfFile } from '../elf/model.js';
import { compileObject, objectFor } from '../kbuild/compile.js';
import { readOwner } from '../kbuild/owner.js';
import { replaceFile } from '../kbuild/snapshot.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { workspaceToolchain } from '../kernel/toolchain.js';
import { compilerOf } from '../elf/comment.js';
import type { CompiledObject, KernelFacts, PatchedSource } from './types.js';

// Stage 3, compile: each changed source file compiled by kbuild in the
// snapshot, first as released, then patched; each object read once. The
// first object's compiler must be the one vmlinux records.

export interface CompileInput {
  tree: string;
  /** Where the original objects are kept while the patched ones are built. */
  work: string;
  files: readonly PatchedSource[];
  workspace: KernelWorkspace;
  kernel: Promise<KernelFacts>;
  signal?: AbortSignal;
}

export async function compile(i: CompileInput): Promise<CompiledObject[]> {
  const cc = { cc: i.workspace.cc, release: i.workspace.release, toolchain: workspaceToolchain(i.workspace), ...(i.signal ? { signal: i.signal } : {}) };
  const out: CompiledObject[] = [];
  for (const f of i.files) {
    const obj = objectFor(f.path);
    // kept beside the tree: kbuild overwrites the object with the patched build
    const origCopy = path.join(i.work, 'orig', obj);
    await fsp.mkdir(path.dirname(origCopy), { recursive: true });
    await fsp.copyFile(await compileObject(i.tree, obj, cc), origCopy);
    const orig = await readElfFile(origCopy);
    if (out.length === 0) checkCompiler(i.workspace.release, (await i.kernel).compiler, orig);
    await replaceFile(i.tree, f.path, f.patched);
    const patched = await readElfFile(await compileObject(i.tree, obj, cc));
    const owner = (await readOwner(i.tree, obj)) ?? { kind: 'vmlinux' as const };
    out.push({ source: f.path, object: obj, owner, orig, patched });
  }
  return out;
}

/** The compiler recorded in vmlinux's .comment must be the one that compiled our objects. */
function checkCompiler(release: string, kernel: string | undefined, object: ElfFile): void {
  const ours = compilerOf(object);
  if (kernel && ours !== kernel) throw new RebootlessError('BUILD_COMPILER_MISMATCH', { release, kernel, object: ours ?? '(none)' });
}
