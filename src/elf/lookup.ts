import type { ElfFile, ElfRela, ElfSection, ElfSymbol } from './model.js';
import { isLivepatchRelaSection, isRelocationSection } from './predicates.js';
import { STB_LOCAL, STT_FILE, STT_SECTION } from './constants.js';
import { findSymtab } from './edit.js';

// find-X-by-Y over a model. An index is a snapshot: build a new one after
// editing the model.

export interface ElfIndex {
  readonly file: ElfFile;
  findSectionByName(name: string): ElfSection | undefined;
  findSectionsByName(name: string): ElfSection[];
  /** Every symbol of that name in the main symbol table (static functions share names), in table order. */
  findSymbolsByName(name: string): ElfSymbol[];
  /** The first symbol of that name, preferring a global one. */
  findSymbolByName(name: string): ElfSymbol | undefined;
  /** Symbols defined in a section, by value (section symbols first at equal values). */
  findSymbolsBySection(section: ElfSection): ElfSymbol[];
  /** The STT_SECTION symbol of a section. */
  findSectionSymbol(section: ElfSection): ElfSymbol | undefined;
  /** The innermost sized symbol (not a section or file symbol) covering `offset`. */
  findSymbolContaining(section: ElfSection, offset: bigint | number): ElfSymbol | undefined;
  /** Every relocation section that applies to `base` (the normal one and any `.klp.rela.*`). */
  findRelaSectionsFor(base: ElfSection): ElfSection[];
  /** The normal (non-livepatch) relocation section of `base`. */
  findRelaSectionFor(base: ElfSection): ElfSection | undefined;
  /** The section a relocation section applies to. */
  findBaseSection(rela: ElfSection): ElfSection | null;
  /** Every relocation applying to `base`, by offset (a stable sort: file order at equal offsets). */
  findRelasBySection(base: ElfSection): ElfRela[];
  /** The relocation at exactly `offset` in `base`. */
  findRelaByOffset(base: ElfSection, offset: bigint | number): ElfRela | undefined;
  /** Relocations with start <= offset < end in `base`, by offset. */
  findRelasInRange(base: ElfSection, start: bigint | number, end: bigint | number): ElfRela[];
  /** The relocation section a relocation entry belongs to. */
  findRelaSectionOf(rela: ElfRela): ElfSection | undefined;
  /** The group section a section is a member of. */
  findGroupOf(section: ElfSection): ElfSection | undefined;
}

interface Interval {
  start: bigint;
  end: bigint;
  sym: ElfSymbol;
}

/** Sorted intervals plus, at each position, the largest end so far: a query scans back only while an interval could still cover. */
class IntervalIndex {
  private readonly items: Interval[];
  private readonly maxEnd: bigint[];

  constructor(items: Interval[]) {
    // start ascending, then larger first: scanning backwards meets the innermost candidate first
    this.items = items.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end > b.end ? -1 : a.end < b.end ? 1 : 0));
    this.maxEnd = [];
    let m = -1n;
    for (const it of this.items) {
      if (it.end > m) m = it.end;
      this.maxEnd.push(m);
    }
  }

  containing(offset: bigint): ElfSymbol | undefined {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.items[mid] as Interval).start <= offset) lo = mid + 1;
      else hi = mid;
    }
    // Backwards from the last start <= offset: the first interval that covers is the innermost.
    for (let i = lo - 1; i >= 0 && (this.maxEnd[i] as bigint) > offset; i--) {
      const it = this.items[i] as Interval;
      if (it.end > offset) return it.sym;
    }
    return undefined;
  }
}

function lowerBound(relas: readonly ElfRela[], offset: bigint): number {
  let lo = 0;
  let hi = relas.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((relas[mid] as ElfRela).offset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function inOffsetOrder(relas: readonly ElfRela[]): boolean {
  for (let i = 1; i < relas.length; i++) if ((relas[i - 1] as ElfRela).offset > (relas[i] as ElfRela).offset) return false;
  return true;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function buildIndex(file: ElfFile): ElfIndex {
  const sectionsByName = new Map<string, ElfSection[]>();
  const relaSections = new Map<ElfSection, ElfSection[]>();
  const groupOf = new Map<ElfSection, ElfSection>();
  for (const s of file.sections.slice(1)) {
    push(sectionsByName, s.name, s);
    if (isRelocationSection(s.type) && s.base) push(relaSections, s.base, s);
    if (s.group) for (const m of s.group.members) groupOf.set(m, s);
  }
  // an entry per relocation: made when first asked for
  let relaOwner: Map<ElfRela, ElfSection> | undefined;
  const relaOwners = (): Map<ElfRela, ElfSection> => {
    if (!relaOwner) {
      relaOwner = new Map();
      for (const s of file.sections.slice(1)) if (s.relas) for (const r of s.relas) relaOwner.set(r, s);
    }
    return relaOwner;
  };
  const symbols = findSymtab(file)?.symbols ?? [];
  const symbolsByName = new Map<string, ElfSymbol[]>();
  const symbolsBySection = new Map<ElfSection, ElfSymbol[]>();
  symbols.forEach((sym, i) => {
    if (i === 0) return;
    push(symbolsByName, sym.name, sym);
    if (sym.section) push(symbolsBySection, sym.section, sym);
  });
  for (const list of symbolsBySection.values()) {
    list.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : (b.type === STT_SECTION ? 1 : 0) - (a.type === STT_SECTION ? 1 : 0)));
  }

  const intervals = new Map<ElfSection, IntervalIndex>();
  const intervalsOf = (section: ElfSection): IntervalIndex => {
    let idx = intervals.get(section);
    if (!idx) {
      const items: Interval[] = [];
      for (const sym of symbolsBySection.get(section) ?? []) {
        if (sym.size > 0 && sym.type !== STT_SECTION && sym.type !== STT_FILE) items.push({ start: sym.value, end: sym.value + BigInt(sym.size), sym });
      }
      idx = new IntervalIndex(items);
      intervals.set(section, idx);
    }
    return idx;
  };

  const relasByBase = new Map<ElfSection, ElfRela[]>();
  const relasOf = (base: ElfSection): ElfRela[] => {
    let list = relasByBase.get(base);
    if (!list) {
      list = (relaSections.get(base) ?? []).flatMap((s) => s.relas ?? []);
      // assemblers write them in order: sort only when they are not
      if (!inOffsetOrder(list)) list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
      relasByBase.set(base, list);
    }
    return list;
  };

  return {
    file,
    findSectionByName: (name) => sectionsByName.get(name)?.[0],
    findSectionsByName: (name) => [...(sectionsByName.get(name) ?? [])],
    findSymbolsByName: (name) => [...(symbolsByName.get(name) ?? [])],
    findSymbolByName: (name) => {
      const list = symbolsByName.get(name);
      return list?.find((s) => s.bind !== STB_LOCAL) ?? list?.[0];
    },
    findSymbolsBySection: (section) => [...(symbolsBySection.get(section) ?? [])],
    findSectionSymbol: (section) => symbolsBySection.get(section)?.find((s) => s.type === STT_SECTION),
    findSymbolContaining: (section, offset) => intervalsOf(section).containing(BigInt(offset)),
    findRelaSectionsFor: (base) => [...(relaSections.get(base) ?? [])],
    findRelaSectionFor: (base) => relaSections.get(base)?.find((s) => !isLivepatchRelaSection(s)),
    findBaseSection: (rela) => rela.base,
    findRelasBySection: (base) => [...relasOf(base)],
    findRelaByOffset: (base, offset) => {
      const list = relasOf(base);
      const r = list[lowerBound(list, BigInt(offset))];
      return r && r.offset === BigInt(offset) ? r : undefined;
    },
    findRelasInRange: (base, start, end) => {
      const list = relasOf(base);
      const out: ElfRela[] = [];
      for (let i = lowerBound(list, BigInt(start)); i < list.length && (list[i] as ElfRela).offset < BigInt(end); i++) out.push(list[i] as ElfRela);
      return out;
    },
    findRelaSectionOf: (rela) => relaOwners().get(rela),
    findGroupOf: (section) => groupOf.get(section),
  };
}
