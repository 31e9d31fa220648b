import { SHF_EXECINSTR } from '../elf/constants.js';
import type { ElfIndex } from '../elf/lookup.js';
import type { ElfFile, ElfRela, ElfSection, ElfSymbol } from '../elf/model.js';
import type { SpecialSectionEntries } from './types.js';

// Sections whose entries each belong to one place in the code (objtool's and
// the compiler's side tables). One table: how to size an entry and which
// field points at the code it belongs to.

export interface SpecialSection {
  /** Exact name, or a prefix when it ends with '*'. */
  name: string;
  /** Byte offset of the field that points at the owning code; null when owned through another table. */
  ownerField: number | null;
  /** Entries parallel to those of another section (`.orc_unwind` ↔ `.orc_unwind_ip`). */
  parallelTo?: string;
  /** Offset of a field naming a static key or static call (refused in modules). */
  keyField?: number;
  /** Data the kernel keeps per object rather than per function: carried, never compared. */
  perObject?: boolean;
  /** Code that never runs once alternatives are applied at load: references to it are equal wherever they point. */
  inert?: boolean;
}

export const SPECIAL_SECTIONS: readonly SpecialSection[] = [
  { name: '__bug_table', ownerField: 0 },
  { name: '__ex_table', ownerField: 0 },
  { name: '__jump_table', ownerField: 0, keyField: 8 },
  { name: '.altinstructions', ownerField: 0 },
  { name: '.altinstr_replacement', ownerField: null },
  // static_cpu_has()'s test before alternatives are applied; a module's alternatives are applied before its code runs
  { name: '.altinstr_aux', ownerField: null, inert: true },
  { name: '.parainstructions', ownerField: 0 },
  { name: '.smp_locks', ownerField: 0 },
  { name: '.static_call_sites', ownerField: 0, keyField: 4 },
  { name: '.static_call.text', ownerField: null },
  { name: '.retpoline_sites', ownerField: 0 },
  { name: '.return_sites', ownerField: 0 },
  { name: '.call_sites', ownerField: 0 },
  { name: '.ibt_endbr_seal', ownerField: 0 },
  { name: '.orc_unwind_ip', ownerField: 0 },
  { name: '.orc_unwind', ownerField: null, parallelTo: '.orc_unwind_ip' },
  { name: '__mcount_loc', ownerField: 0 },
  { name: '__patchable_function_entries', ownerField: 0 },
  { name: '.printk_index', ownerField: null, perObject: true },
  { name: '__tracepoints*', ownerField: null, perObject: true },
  { name: '__dyndbg', ownerField: null, perObject: true },
  { name: '__verbose', ownerField: null, perObject: true }, // __dyndbg before Linux 5.1
  { name: '__dyndbg_classes', ownerField: null, perObject: true },
  { name: '.discard.*', ownerField: null, perObject: true },
  { name: '.static_call_tramp_key', ownerField: null, perObject: true },
];

// the table by exact name, and its prefix entries apart: asked about every section a relocation points into
const BY_NAME = new Map(SPECIAL_SECTIONS.filter((s) => !s.name.endsWith('*')).map((s) => [s.name, s]));
const BY_PREFIX = SPECIAL_SECTIONS.filter((s) => s.name.endsWith('*')).map((s) => ({ prefix: s.name.slice(0, -1), spec: s }));

/** The table's entry for a section name (the first that matches, as the table is ordered). */
export function specialSection(name: string): SpecialSection | undefined {
  const exact = BY_NAME.get(name);
  const prefixed = BY_PREFIX.find((p) => name.startsWith(p.prefix))?.spec;
  if (!exact || !prefixed) return exact ?? prefixed;
  return SPECIAL_SECTIONS.indexOf(exact) < SPECIAL_SECTIONS.indexOf(prefixed) ? exact : prefixed;
}

/**
 * The size of one entry: `sh_entsize` when the assembler recorded it, else the
 * period of the section's relocation pattern (every entry has its pointer
 * fields at the same offsets), so no struct size is hard-coded and a kernel
 * whose structs differ is read right. Parallel tables divide by the count of
 * their partner's entries. Computed once per section and index.
 */
export function entrySize(file: ElfFile, idx: ElfIndex, section: ElfSection): number | undefined {
  let sizes = entrySizes.get(idx);
  if (!sizes) entrySizes.set(idx, (sizes = new Map()));
  if (!sizes.has(section)) sizes.set(section, computeEntrySize(file, idx, section));
  return sizes.get(section);
}

// an index is a snapshot of its file (lookup.ts): what is derived from it lives as long as it does
const entrySizes = new WeakMap<ElfIndex, Map<ElfSection, number | undefined>>();

function computeEntrySize(file: ElfFile, idx: ElfIndex, section: ElfSection): number | undefined {
  if (section.entsize > 0) return section.entsize;
  const spec = specialSection(section.name);
  if (spec?.parallelTo) {
    const partner = idx.findSectionByName(spec.parallelTo);
    const partnerSize = partner ? entrySize(file, idx, partner) : undefined;
    if (!partner || !partnerSize || partner.size === 0) return undefined;
    const count = partner.size / partnerSize;
    return Number.isInteger(section.size / count) ? section.size / count : undefined;
  }
  // by offset (findRelasBySection sorts them), so each entry's fields are a run of this list
  const relas = idx.findRelasBySection(section);
  if (relas.length === 0) return undefined;
  const offsets = relas.map((r) => Number(r.offset));
  // a field pointing at code and one pointing at anything else are different fields: 24-byte
  // jump entries (code, target, key: all 8-byte) do not repeat every 16 bytes
  const kinds = new Map(relas.map((r) => [Number(r.offset), Boolean(r.symbol.section && (r.symbol.section.flags & SHF_EXECINSTR) !== 0n)]));
  const kindOf = offsets.map((o) => kinds.get(o));
  const size = section.size;
  if (new Set(offsets).size === 1) return size;
  // an entry holds at least the fields the table names (a static call site's key after its address)
  const minimum = Math.max(spec?.ownerField ?? 0, spec?.keyField ?? 0) + 4;
  for (let p = minimum; p <= size; p++) {
    if (size % p === 0 && repeatsEvery(p, offsets, kindOf, size)) return p;
  }
  return undefined;
}

/** Whether every p-byte entry of [0, size) has the fields of the first: the same offsets within it, of the same kinds, in the same order. */
function repeatsEvery(p: number, offsets: readonly number[], kindOf: readonly (boolean | undefined)[], size: number): boolean {
  let first = 0;
  while (first < offsets.length && (offsets[first] as number) < p) first++;
  let i = 0;
  for (let base = 0; base < size; base += p) {
    while (i < offsets.length && (offsets[i] as number) < base) i++;
    let k = 0;
    for (; i < offsets.length && (offsets[i] as number) < base + p; i++, k++) {
      if (k >= first || (offsets[i] as number) - base !== offsets[k] || kindOf[i] !== kindOf[k]) return false;
    }
    if (k !== first) return false;
  }
  return true;
}

/** Where a pointer field really points: (section, offset). */
export function fieldTarget(r: ElfRela): { section: ElfSection | null; offset: bigint; symbol: ElfSymbol } {
  // relative fields in these tables are "target - field" (S + A - P): the target is S + A
  const offset = (r.symbol.section ? r.symbol.value : 0n) + r.addend;
  return { section: r.symbol.section, offset, symbol: r.symbol };
}

/** Entries of every special section that belong to a function (by its section and range). */
export function entriesOf(fn: ElfSymbol, file: ElfFile, idx: ElfIndex): SpecialSectionEntries[] {
  const out: SpecialSectionEntries[] = [];
  const lo = fn.value;
  const hi = fn.value + BigInt(Math.max(1, fn.size));
  const owned = (r: ElfRela | undefined): boolean => {
    if (!r || r.symbol.section !== fn.section) return false;
    const t = fieldTarget(r).offset;
    return t >= lo && t < hi;
  };
  const sizes = new Map<string, number | undefined>();
  for (const sec of file.sections) {
    const spec = specialSection(sec.name);
    if (!spec || spec.perObject) continue;
    const size = sizes.get(sec.name) ?? entrySize(file, idx, sec);
    sizes.set(sec.name, size);
    if (!size) continue;
    const entries: { offset: number; size: number }[] = [];
    if (spec.ownerField !== null) {
      for (let at = 0; at + size <= sec.size; at += size) {
        if (owned(idx.findRelaByOffset(sec, at + spec.ownerField))) entries.push({ offset: at, size });
      }
    } else if (spec.parallelTo) {
      const partner = idx.findSectionByName(spec.parallelTo);
      const psize = partner ? entrySize(file, idx, partner) : undefined;
      if (partner && psize) {
        for (let i = 0, at = 0; at + psize <= partner.size; i++, at += psize) {
          if (owned(idx.findRelaByOffset(partner, at))) entries.push({ offset: i * size, size });
        }
      }
    }
    if (entries.length) out.push({ section: sec.name, entrySize: size, entries });
  }
  return out;
}

/** Keys (static keys, static calls) named by a function's entries that are defined in this object. */
export function localKeysOf(fn: ElfSymbol, file: ElfFile, idx: ElfIndex): { section: string; key: string; symbol?: ElfSymbol }[] {
  const out: { section: string; key: string; symbol?: ElfSymbol }[] = [];
  for (const group of entriesOf(fn, file, idx)) {
    const spec = specialSection(group.section);
    const sec = idx.findSectionByName(group.section);
    if (spec?.keyField === undefined || !sec) continue;
    for (const e of group.entries) {
      const r = idx.findRelaByOffset(sec, e.offset + spec.keyField);
      if (!r) continue;
      const t = fieldTarget(r);
      if (t.section === null) continue; // defined elsewhere
      const inner = idx.findSymbolContaining(t.section, t.offset & ~1n);
      out.push({ section: group.section, key: inner?.name ?? t.section.name, ...(inner ? { symbol: inner } : {}) });
    }
  }
  return out;
}
