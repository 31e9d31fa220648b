import { SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, STB_LOCAL, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION } from '../../elf/constants.js';
import type { ElfFile, ElfSymbol } from '../../elf/model.js';
import { findSymtab } from '../../elf/edit.js';
import { byValue, symbolsByAddress, symbolsOfName, upperBoundByValue } from '../../elf/symbol-order.js';
import type { TargetObject, TargetSymbol } from './types.js';

// The running kernel's view of an object's symbols, rebuilt from its file:
// the symbols kallsyms lists (defined in an allocated section, named, not
// section/file symbols, not assembler-local), in kallsyms order.

/** GCC numbers statics per name (`buf.1`, `buf.2`): the name without those suffixes. */
export const baseName = (name: string): string => name.replace(/(\.\d+)+$/, '');

function countsInKallsyms(s: ElfSymbol): boolean {
  return (
    s.section !== null &&
    (s.section.flags & SHF_ALLOC) !== 0n &&
    s.type !== STT_SECTION &&
    s.type !== STT_FILE &&
    s.name !== '' &&
    !s.name.startsWith('.L') &&
    !s.name.startsWith('$')
  );
}

function toTarget(object: string, s: ElfSymbol): TargetSymbol {
  const flags = s.section?.flags ?? 0n;
  const exec = (flags & SHF_EXECINSTR) !== 0n;
  const kind = s.type === STT_FUNC || (s.type !== STT_OBJECT && exec) ? 'function' : s.type === STT_OBJECT || !exec ? 'data' : 'other';
  return { object, name: s.name, value: s.value, size: s.size, kind, writable: (flags & SHF_WRITE) !== 0n, global: s.bind !== STB_LOCAL, elf: s };
}

/**
 * `order` 'address' for vmlinux (kallsyms sorts by address), 'table' for a
 * module (its symbol table as loaded). The object's symbols become
 * TargetSymbols as they are asked for (vmlinux has over 100,000).
 */
export function targetObject(name: string, file: ElfFile, order: 'address' | 'table', keepFile = order === 'table'): TargetObject {
  const table = findSymtab(file)?.symbols ?? [];
  const made = new Map<ElfSymbol, TargetSymbol>();
  const target = (s: ElfSymbol): TargetSymbol => {
    let t = made.get(s);
    if (!t) made.set(s, (t = toTarget(name, s)));
    return t;
  };
  const named = new Map<string, readonly TargetSymbol[]>();
  const byName = (n: string): readonly TargetSymbol[] => {
    let list = named.get(n);
    if (!list) {
      const same = symbolsOfName(table, n).filter(countsInKallsyms);
      // kallsyms order: by address in vmlinux (a stable sort), table order in a module
      if (order === 'address') same.sort(byValue);
      named.set(n, (list = same.map(target)));
    }
    return list;
  };
  return {
    name,
    byName,
    containing: (address) => (order === 'address' ? containingIn(symbolsByAddress(table), address, target) : undefined),
    fromElf: (s) => (countsInKallsyms(s) && table[s.index] === s ? target(s) : undefined),
    ...(keepFile ? { file } : {}),
  };
}

/** The innermost sized kallsyms symbol covering `address`, else one exactly there. */
function containingIn(sorted: readonly ElfSymbol[], address: bigint, target: (s: ElfSymbol) => TargetSymbol): TargetSymbol | undefined {
  const lo = upperBoundByValue(sorted, address);
  let label: ElfSymbol | undefined;
  // symbols nest rarely and shallowly: a short scan back finds the covering one
  for (let i = lo - 1, seen = 0; i >= 0 && seen < 64 && lo - i < 1024; i--) {
    const s = sorted[i] as ElfSymbol;
    if (!countsInKallsyms(s)) continue;
    seen++;
    if (s.size > 0 && address < s.value + BigInt(s.size)) return target(s);
    if (s.value === address && s.size === 0 && !label) label = s;
  }
  return label && target(label);
}

/** How a message names a kernel entity: `vmlinux:buf.1,1 (0xffffffff82a1b2c0)`. */
export function describeTarget(t: TargetObject | undefined, s: TargetSymbol): string {
  const same = t?.byName(s.name) ?? [];
  const pos = same.length > 1 ? `,${same.indexOf(s) + 1}` : '';
  const where = s.object === 'vmlinux' && s.value !== 0n ? ` (0x${s.value.toString(16)})` : '';
  return `${s.object}:${s.name}${pos}${where}`;
}
