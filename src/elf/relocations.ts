import { RELA_SIZE, REL_SIZE, SHT_RELA } from './constants.js';
import type { ElfDiagnostics } from './diagnostics.js';
import { view } from './image.js';
import type { ElfRela, ElfSection, ElfSymbol } from './model.js';

// Relocation entries: Elf64_Rela (SHT_RELA, what x86-64 uses) and Elf64_Rel.

export function relocationEntrySize(type: number): number {
  return type === SHT_RELA ? RELA_SIZE : REL_SIZE;
}

/** The checks a relocation section must pass before its entries are read (also by chunks). */
export function checkRelocationSection(section: ElfSection, size: number, diag: ElfDiagnostics): void {
  const entsize = relocationEntrySize(section.type);
  if (section.entsize !== entsize) throw diag.malformed(`relocation section ${section.name} has sh_entsize ${section.entsize}, not ${entsize}`, section.name);
  if (size % entsize !== 0) throw diag.malformed(`relocation section ${section.name} size ${size} is not a multiple of ${entsize}`, section.name);
}

/**
 * Entries of a relocation section; `data` may be a run of whole entries from
 * the middle (`first` is then the index of its first entry), so a huge
 * section can be read piece by piece.
 */
export function parseRelocations(section: ElfSection, data: Uint8Array, symbols: readonly ElfSymbol[] | null, diag: ElfDiagnostics, first = 0): ElfRela[] {
  const entsize = relocationEntrySize(section.type);
  checkRelocationSection(section, data.length, diag);
  const count = data.length / entsize;
  if (count > 0 && !symbols) throw diag.malformed(`relocation section ${section.name} has no symbol table (sh_link)`, section.name);
  const syms = symbols ?? [];
  const v = view(data);
  const out: ElfRela[] = new Array<ElfRela>(count);
  const base = (section.origin?.offset ?? 0) + first * entsize;
  for (let i = 0; i < count; i++) {
    const at = i * entsize;
    const offset = v.getBigUint64(at, true);
    const type = v.getUint32(at + 8, true);
    const symIndex = v.getUint32(at + 12, true);
    const symbol = syms[symIndex];
    if (!symbol) throw diag.outOfRange(`symbol index of relocation ${first + i}`, symIndex, syms.length, section.name, base + at + 12);
    const addend = entsize === RELA_SIZE ? v.getBigInt64(at + 16, true) : 0n;
    out[i] = { offset, type, symbol, addend };
  }
  return out;
}

export function serializeRelocations(type: number, relas: readonly ElfRela[], symbolIndex: (r: ElfRela) => number): Uint8Array {
  const entsize = relocationEntrySize(type);
  const data = new Uint8Array(relas.length * entsize);
  const v = view(data);
  relas.forEach((r, i) => {
    const at = i * entsize;
    v.setBigUint64(at, r.offset, true);
    v.setUint32(at + 8, r.type, true);
    v.setUint32(at + 12, symbolIndex(r), true);
    if (entsize === RELA_SIZE) v.setBigInt64(at + 16, r.addend, true);
  });
  return data;
}
