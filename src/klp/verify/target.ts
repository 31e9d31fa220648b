import { SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, STB_LOCAL, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION } from '../../elf/constants.js';
import type { ElfFile, ElfSymbol } from '../../elf/model.js';
import { findSymtab } from '../../elf/edit.js';
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
 * module (its symbol table as loaded).
 */
export function targetObject(name: string, file: ElfFile, order: 'address' | 'table', keepFile = order === 'table'): TargetObject {
  const all = (findSymtab(file)?.symbols ?? []).filter(countsInKallsyms).map((s) => toTarget(name, s));
  const sorted = order === 'address' ? [...all].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)) : all;
  const byName = new Map<string, TargetSymbol[]>();
  const byElf = new Map<ElfSymbol, TargetSymbol>();
  for (const t of sorted) {
    const list = byName.get(t.name);
    if (list) list.push(t);
    else byName.set(t.name, [t]);
    if (t.elf) byElf.set(t.elf, t);
  }
  const byAddress = order === 'address' ? sorted : [];
  return {
    name,
    byName: (n) => byName.get(n) ?? [],
    containing: (address) => containingIn(byAddress, address),
    fromElf: (s) => byElf.get(s),
    ...(keepFile ? { file } : {}),
  };
}

/** The innermost sized symbol covering `address`, else a label exactly there. */
function containingIn(sorted: readonly TargetSymbol[], address: bigint): TargetSymbol | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as TargetSymbol).value <= address) lo = mid + 1;
    else hi = mid;
  }
  let label: TargetSymbol | undefined;
  // symbols nest rarely and shallowly: a short scan back finds the covering one
  for (let i = lo - 1; i >= 0 && i >= lo - 64; i--) {
    const s = sorted[i] as TargetSymbol;
    if (s.size > 0 && address < s.value + BigInt(s.size)) return s;
    if (s.value === address && s.size === 0 && !label) label = s;
  }
  return label;
}

/** How a message names a kernel entity: `vmlinux:buf.1,1 (0xffffffff82a1b2c0)`. */
export function describeTarget(t: TargetObject | undefined, s: TargetSymbol): string {
  const same = t?.byName(s.name) ?? [];
  const pos = same.length > 1 ? `,${same.indexOf(s) + 1}` : '';
  const where = s.object === 'vmlinux' && s.value !== 0n ? ` (0x${s.value.toString(16)})` : '';
  return `${s.object}:${s.name}${pos}${where}`;
}
