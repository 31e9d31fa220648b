import { findSymtab } from '../elf/edit.js';
import { readElfSymbols } from '../elf/files.js';
import type { ElfFile } from '../elf/model.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { readSymvers } from '../kernel/symvers.js';
import type { KernelFacts } from './types.js';

// What the stages need from the release's vmlinux and Module.symvers, read
// once per build (vmlinux: its symbol table and .comment only, a few MB of a
// large file), while the snapshot is being made.

/** The NUL-separated strings of a `.comment` section. */
export function commentStrings(file: ElfFile): string[] {
  const sec = file.sections.find((s) => s.name === '.comment');
  return sec ? Buffer.from(sec.data).toString('latin1').split('\0').filter(Boolean) : [];
}

/** The compiler string (`GCC: ...`) an object's .comment records. */
export const compilerOf = (file: ElfFile): string | undefined => commentStrings(file).find((c) => c.startsWith('GCC:'));

export async function readKernelFacts(ws: KernelWorkspace): Promise<KernelFacts> {
  const [vmlinux, exports] = await Promise.all([readElfSymbols(ws.vmlinux, { include: (s) => s.name === '.comment' }), readSymvers(ws.moduleSymvers)]);
  return { vmlinuxSymbols: findSymtab(vmlinux)?.symbols ?? [], compiler: compilerOf(vmlinux), exports };
}
