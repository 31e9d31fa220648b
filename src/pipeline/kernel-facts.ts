import { findSymtab } from '../elf/edit.js';
import { openElfSymbols, type OpenElf } from '../elf/files.js';
import { compilerOf } from '../elf/comment.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { readSymvers } from '../kernel/symvers.js';
import type { KernelFacts } from './types.js';

// What the stages need from the release's vmlinux and Module.symvers, read
// once per build (vmlinux: its symbol table and .comment only, a few MB of a
// large file), while the units compile. vmlinux stays open for the verify
// stage, which reads the symbol table through its own code but not the file
// a second time; the build closes it.

export async function readKernelFacts(ws: KernelWorkspace): Promise<KernelFacts & { vmlinux: OpenElf }> {
  const [vmlinux, exports] = await Promise.all([openElfSymbols(ws.vmlinux, { include: (s) => s.name === '.comment' }), readSymvers(ws.moduleSymvers)]);
  return { vmlinuxSymbols: findSymtab(vmlinux.file)?.symbols ?? [], compiler: compilerOf(vmlinux.file), exports, vmlinux };
}
