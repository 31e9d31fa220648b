import { STT_FUNC, STT_SECTION, type ElfFile, type ElfRela, type ElfSection, type ElfSymbol } from '../../src/elf/index.js';
import { findSymtab } from '../../src/elf/edit.js';

// Plain lookups over a parsed object for test oracles: written straight from
// the ELF model, independent of the indexes the code under test uses.

export const symbolsOf = (file: ElfFile): ElfSymbol[] => findSymtab(file)?.symbols ?? [];

export function functionSymbol(file: ElfFile, name: string): ElfSymbol {
  const s = symbolsOf(file).find((x) => x.name === name && x.type === STT_FUNC);
  if (!s?.section) throw new Error(`${file.file}: no function ${name}`);
  return s;
}

export const relasOf = (file: ElfFile, base: ElfSection): ElfRela[] => file.sections.find((s) => s.relas && s.base === base)?.relas ?? [];

/** The name a relocation target is known by: section symbols resolve to the function they start. */
export function targetName(file: ElfFile, r: ElfRela): string {
  if (r.symbol.type !== STT_SECTION) return r.symbol.name;
  const f = symbolsOf(file).find((s) => s.type === STT_FUNC && s.section === r.symbol.section && s.value === 0n);
  return f ? f.name : (r.symbol.section?.name ?? '');
}
