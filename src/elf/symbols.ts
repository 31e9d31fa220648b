import { SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, STB_LOCAL, SYM_SIZE } from './constants.js';
import type { ElfDiagnostics } from './diagnostics.js';
import { view } from './image.js';
import type { ElfSection, ElfSymbol } from './model.js';
import type { StringTable } from './strtab.js';

// Symbol table entries (Elf64_Sym) and their extended section indices
// (SHT_SYMTAB_SHNDX, used when an object has 0xff00 or more sections).

export interface SymbolTableInput {
  section: ElfSection;
  data: Uint8Array;
  strings: StringTable | null;
  /** The SHT_SYMTAB_SHNDX contents for this table, if any. */
  shndx: Uint8Array | null;
  /** All sections by header index (entry 0 included). */
  sections: readonly ElfSection[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function parseSymbols(input: SymbolTableInput, diag: ElfDiagnostics): ElfSymbol[] {
  const { section, data, strings, shndx, sections } = input;
  if (section.entsize !== SYM_SIZE) throw diag.malformed(`symbol table ${section.name} has sh_entsize ${section.entsize}, not ${SYM_SIZE}`, section.name);
  if (data.length % SYM_SIZE !== 0) throw diag.malformed(`symbol table ${section.name} size ${data.length} is not a multiple of ${SYM_SIZE}`, section.name);
  const count = data.length / SYM_SIZE;
  if (shndx && shndx.length < count * 4) {
    throw diag.malformed(`extended section index table for ${section.name} has ${shndx.length / 4} entries for ${count} symbols`, section.name);
  }
  const v = view(data);
  const xv = shndx ? view(shndx) : null;
  const symbols: ElfSymbol[] = new Array<ElfSymbol>(count);
  const base = section.origin?.offset ?? 0;
  for (let i = 0; i < count; i++) {
    const at = i * SYM_SIZE;
    const nameOffset = v.getUint32(at, true);
    const info = v.getUint8(at + 4);
    const other = v.getUint8(at + 5);
    let index = v.getUint16(at + 6, true);
    const value = v.getBigUint64(at + 8, true);
    const size64 = v.getBigUint64(at + 16, true);
    if (size64 > MAX_SAFE) throw diag.tooLarge(`size of symbol ${i}`, size64, MAX_SAFE, section.name, base + at + 16);
    if (index === SHN_XINDEX) {
      if (!xv) throw diag.malformed(`symbol ${i} uses SHN_XINDEX but there is no SHT_SYMTAB_SHNDX table`, section.name, base + at + 6);
      index = xv.getUint32(i * 4, true);
    } else if (index >= SHN_LORESERVE) {
      index = -index; // reserved: remembered below as shndx, no section
    }
    let target: ElfSection | null = null;
    let shndxValue: number;
    if (index < 0) {
      shndxValue = -index;
    } else if (index === SHN_UNDEF) {
      shndxValue = SHN_UNDEF;
    } else {
      target = sections[index] ?? null;
      if (!target) throw diag.outOfRange(`section index of symbol ${i}`, index, sections.length, section.name, base + at + 6);
      shndxValue = index;
    }
    if (!strings && nameOffset !== 0) throw diag.malformed(`symbol table ${section.name} has names but no string table (sh_link)`, section.name);
    const name = strings ? strings.name(nameOffset, `symbol ${i}`) : '';
    symbols[i] = {
      index: i,
      name,
      value,
      size: Number(size64),
      bind: info >> 4,
      type: info & 0xf,
      other,
      section: target,
      shndx: shndxValue,
      nameOffset,
    };
  }
  return symbols;
}

/** Symbols in the order the writer emits them: entry 0, then locals, then the rest (each group in model order). */
export function writeOrder(symbols: readonly ElfSymbol[]): ElfSymbol[] {
  if (symbols.length === 0) return [];
  const [first, ...rest] = symbols as [ElfSymbol, ...ElfSymbol[]];
  return [first, ...rest.filter((s) => s.bind === STB_LOCAL), ...rest.filter((s) => s.bind !== STB_LOCAL)];
}

export interface SymbolEncoding {
  nameOffset: (s: ElfSymbol) => number;
  sectionIndex: (s: ElfSymbol) => number;
}

/** Encodes a symbol table (already in write order); returns the SHT_SYMTAB_SHNDX contents when any index needs it. */
export function serializeSymbols(ordered: readonly ElfSymbol[], enc: SymbolEncoding): { data: Uint8Array; shndx: Uint8Array; needsShndx: boolean } {
  const data = new Uint8Array(ordered.length * SYM_SIZE);
  const shndx = new Uint8Array(ordered.length * 4);
  const v = view(data);
  const xv = view(shndx);
  let needsShndx = false;
  ordered.forEach((s, i) => {
    const at = i * SYM_SIZE;
    v.setUint32(at, enc.nameOffset(s), true);
    v.setUint8(at + 4, ((s.bind & 0xf) << 4) | (s.type & 0xf));
    v.setUint8(at + 5, s.other & 0xff);
    const index = enc.sectionIndex(s);
    if (s.section && index >= SHN_LORESERVE) {
      v.setUint16(at + 6, SHN_XINDEX, true);
      xv.setUint32(i * 4, index, true);
      needsShndx = true;
    } else {
      v.setUint16(at + 6, index, true);
    }
    v.setBigUint64(at + 8, s.value, true);
    v.setBigUint64(at + 16, BigInt(s.size), true);
  });
  return { data, shndx, needsShndx };
}
