import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { STB_LOCAL, STT_FUNC, STT_OBJECT } from '../elf/constants.js';
import type { ElfFile, ElfSymbol } from '../elf/model.js';
import type { KernelRef, KernelSymbol } from '../klp/extract.js';
import { fileBlocks, findSympos, matchFileBlock } from '../klp/sympos.js';
import type { Export } from '../kernel/symvers.js';
import type { ObjectOwner } from '../kbuild/owner.js';

// How the running kernel provides each symbol the patch refers to but does
// not carry: an export (a normal relocation) or a livepatch relocation to
// vmlinux or to the target module, with its sympos.

export interface RefsInput {
  /** The compiled original object: its locals find its FILE block in vmlinux. */
  object: ElfFile;
  sourcePath: string;
  owner: ObjectOwner;
  vmlinuxSymbols: readonly ElfSymbol[];
  /** The target module's symbol table (module targets). */
  moduleSymbols?: readonly ElfSymbol[];
  exports: Map<string, Export>;
}

export function kernelResolver(i: RefsInput): (sym: KernelSymbol) => KernelRef {
  const objectName = path.basename(i.sourcePath).replace(/\.c$/, '.o');
  const locals = (i.object.sections.find((s) => s.symbols)?.symbols ?? [])
    .filter((s) => s.bind === STB_LOCAL && (s.type === STT_FUNC || s.type === STT_OBJECT) && !/\.\d+$/.test(s.name))
    .map((s) => s.name);
  let block: ReturnType<typeof matchFileBlock> | null = null;
  const vmlinuxBlock = () => (block === null ? (block = matchFileBlock(fileBlocks(i.vmlinuxSymbols), path.basename(i.sourcePath), locals)) : block);
  const unresolved = (sym: KernelSymbol, target: string, why: string): RebootlessError =>
    new RebootlessError('BUILD_SYMBOL_UNRESOLVED', { object: objectName, symbol: sym.name, target, why });

  return (sym) => {
    const { name, local } = sym;
    if (i.owner.kind === 'module' && i.moduleSymbols) {
      const r = findSympos(i.moduleSymbols, name, 'table');
      if ('sympos' in r) return { kind: 'klp', object: i.owner.name, name, sympos: r.sympos };
      if (r.error === 'ambiguous') throw unresolved(sym, i.owner.name, `${r.candidates} symbols of that name in the module`);
      // a static of the module's own object lives in the module: never take vmlinux's namesake
      if (local) throw unresolved(sym, i.owner.name, 'a static of this object, missing from the module\'s symbol table');
    }
    const exp = i.exports.get(name);
    if (!local && exp && !(i.owner.kind === 'module' && exp.module === i.owner.name)) return { kind: 'export', name };
    const r = findSympos(i.vmlinuxSymbols, name, 'address', local ? vmlinuxBlock()?.block : undefined);
    if ('sympos' in r) return { kind: 'klp', object: 'vmlinux', name, sympos: r.sympos };
    const why = r.error === 'ambiguous' ? `${r.candidates} symbols of that name and no matching FILE block` : r.candidates ? `no symbol of that name in this object's FILE block (${r.candidates} elsewhere)` : 'no such symbol';
    throw unresolved(sym, 'vmlinux', why);
  };
}
