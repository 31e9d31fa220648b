import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { STB_LOCAL, STT_FUNC, STT_OBJECT } from '../elf/constants.js';
import { findSymtab } from '../elf/edit.js';
import type { ElfFile, ElfSymbol } from '../elf/model.js';
import type { KernelRef, KernelSymbol } from './extract.js';
import { fileBlocks, findSympos, matchFileBlock, sameNamed, type FileBlock } from './sympos.js';

// How the running kernel provides each symbol the patch refers to but does
// not carry: an export (a normal relocation) or a livepatch relocation to
// vmlinux or to the target module, with its sympos. The one place both are
// decided: the patch object's references and the klp_func table's
// `old_sympos` come from the same resolver.

/** What the policy needs of a Module.symvers entry. */
export interface ExportedSymbol {
  /** The module exporting it ('vmlinux' for the kernel image). */
  module: string;
}

export interface RefsInput {
  /** The compiled original object: its locals find its FILE block in vmlinux. */
  object: ElfFile;
  sourcePath: string;
  /** The module the object is linked into, or null for vmlinux. */
  module: string | null;
  vmlinuxSymbols: readonly ElfSymbol[];
  /** The target module's symbol table (module targets). */
  moduleSymbols?: readonly ElfSymbol[];
  exports: ReadonlyMap<string, ExportedSymbol>;
  /** Local names run-pre bound by code to a symbol of the target (vmlinux's or the module's table): they decide over FILE blocks. */
  bound?: ReadonlyMap<string, ElfSymbol>;
}

export type KernelResolver = (sym: KernelSymbol) => KernelRef;

/** A resolver for one object; each name is decided once and remembered. */
export function kernelResolver(i: RefsInput): KernelResolver {
  const decided = new Map<string, KernelRef>();
  const decide = policy(i);
  return (sym) => {
    const key = `${sym.local ? 'l' : 'g'}:${sym.name}`;
    let r = decided.get(key);
    if (!r) decided.set(key, (r = decide(sym)));
    return r;
  };
}

/** A function's `old_sympos`: 0 for an export (its name is unique), else the livepatch relocation's. */
export const symposOf = (r: KernelRef): number => (r.kind === 'klp' ? r.sympos : 0);

/** The FILE block of vmlinux's symbol table whose locals are the compiled object's (undefined when none fits). */
export function objectFileBlock(object: ElfFile, sourcePath: string, vmlinuxSymbols: readonly ElfSymbol[]): FileBlock | undefined {
  const locals = (findSymtab(object)?.symbols ?? [])
    .filter((s) => s.bind === STB_LOCAL && (s.type === STT_FUNC || s.type === STT_OBJECT) && !/\.\d+$/.test(s.name))
    .map((s) => s.name);
  return matchFileBlock(fileBlocks(vmlinuxSymbols), path.basename(sourcePath), locals)?.block;
}

/** The sympos of a symbol run-pre bound, among its same-named symbols; undefined when it is not one of them. */
function boundSympos(symbols: readonly ElfSymbol[], bound: ElfSymbol, order: 'address' | 'table'): number | undefined {
  const same = sameNamed(symbols, bound.name, order);
  const at = same.indexOf(bound);
  if (at < 0) return undefined;
  return same.length > 1 ? at + 1 : 0;
}

function policy(i: RefsInput): KernelResolver {
  const objectName = path.basename(i.sourcePath).replace(/\.c$/, '.o');
  let block: FileBlock | undefined | null = null;
  const vmlinuxBlock = (): FileBlock | undefined => (block === null ? (block = objectFileBlock(i.object, i.sourcePath, i.vmlinuxSymbols)) : block);
  const unresolved = (sym: KernelSymbol, target: string, why: string): RebootlessError =>
    new RebootlessError('BUILD_SYMBOL_UNRESOLVED', { object: objectName, symbol: sym.name, target, why });

  return (sym) => {
    const { name, local } = sym;
    const bound = local ? i.bound?.get(name) : undefined;
    if (bound) {
      const inModule = i.module !== null && i.moduleSymbols;
      const pos = boundSympos(inModule ? (i.moduleSymbols as readonly ElfSymbol[]) : i.vmlinuxSymbols, bound, inModule ? 'table' : 'address');
      if (pos !== undefined) return { kind: 'klp', object: inModule ? (i.module as string) : 'vmlinux', name, sympos: pos };
    }
    if (i.module !== null && i.moduleSymbols) {
      const r = findSympos(i.moduleSymbols, name, 'table');
      if ('sympos' in r) return { kind: 'klp', object: i.module, name, sympos: r.sympos };
      if (r.error === 'ambiguous') throw unresolved(sym, i.module, `${r.candidates} symbols of that name in the module`);
      // a static of the module's own object lives in the module: never take vmlinux's namesake
      if (local) throw unresolved(sym, i.module, 'a static of this object, missing from the module\'s symbol table');
    }
    const exp = i.exports.get(name);
    if (!local && exp && exp.module !== i.module) return { kind: 'export', name };
    const r = findSympos(i.vmlinuxSymbols, name, 'address', local ? vmlinuxBlock() : undefined);
    if ('sympos' in r) return { kind: 'klp', object: 'vmlinux', name, sympos: r.sympos };
    const why = r.error === 'ambiguous' ? `${r.candidates} symbols of that name and no matching FILE block` : r.candidates ? `no symbol of that name in this object's FILE block (${r.candidates} elsewhere)` : 'no such symbol';
    throw unresolved(sym, 'vmlinux', why);
  };
}
