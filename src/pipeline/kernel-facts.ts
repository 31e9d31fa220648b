import { findSymtab } from '../elf/edit.js';
import { readElfSymbols } from '../elf/files.js';
import { compilerOf } from '../elf/comment.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { readSymvers } from '../kernel/symvers.js';
import type { KernelFacts } from './types.js';

// What the stages need from the release's vmlinux and Module.symvers, read
// once per build (vmlinux: its symbol table and .comment only, a few MB of a
// large file), while the snapshot is being made.

export async function readKernelFacts(ws: KernelWorkspace): Promise<KernelFacts> {
  const [vmlinux, exports] = await Promise.all([readElfSymbols(ws.vmlinux, { include: (s) => s.name === '.comment' }), readSymvers(ws.moduleSymvers)]);
  return { vmlinuxSymbols: findSymtab(vmlinux)?.symbols ?? [], compiler: compilerOf(vmlinux), exports };
}
