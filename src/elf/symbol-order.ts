import type { ElfSymbol } from './model.js';

// Two orders of a big symbol table (vmlinux has over 100,000 symbols) that
// several readers of one build need: by name and by address. Each is made
// once per table, on first use, and kept while the table is: a build's
// run-pre, resolver and verify stages each filter them their own way
// instead of indexing the table again.

const byNameOf = new WeakMap<readonly ElfSymbol[], ReadonlyMap<string, ElfSymbol | ElfSymbol[]>>();
const byAddressOf = new WeakMap<readonly ElfSymbol[], readonly ElfSymbol[]>();
const NONE: readonly ElfSymbol[] = [];

/** Symbols of the table with that name, in table order. */
export function symbolsOfName(table: readonly ElfSymbol[], name: string): readonly ElfSymbol[] {
  let index = byNameOf.get(table);
  if (!index) {
    // a name held once (nearly all) maps to its symbol: no array per name
    const m = new Map<string, ElfSymbol | ElfSymbol[]>();
    for (const s of table) {
      const seen = m.get(s.name);
      if (seen === undefined) m.set(s.name, s);
      else if (Array.isArray(seen)) seen.push(s);
      else m.set(s.name, [seen, s]);
    }
    byNameOf.set(table, (index = m));
  }
  const hit = index.get(name);
  return hit === undefined ? NONE : Array.isArray(hit) ? hit : [hit];
}

/** Symbols in address order, for sort (stable: ties keep their order). */
export const byValue = (a: ElfSymbol, b: ElfSymbol): number => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

/** Every symbol of the table by value (a stable sort: table order at equal values). */
export function symbolsByAddress(table: readonly ElfSymbol[]): readonly ElfSymbol[] {
  let sorted = byAddressOf.get(table);
  if (!sorted) byAddressOf.set(table, (sorted = [...table].sort(byValue)));
  return sorted;
}

/** Position after the last symbol whose value is ≤ `address` in an address-ordered list. */
export function upperBoundByValue(sorted: readonly { value: bigint }[], address: bigint): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as { value: bigint }).value <= address) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
