import { EHDR_SIZE, EI_NIDENT, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, ET_REL, EV_CURRENT, SHDR_SIZE, SHT_NULL, SHT_STRTAB, SHT_SYMTAB, SYM_SIZE } from './constants.js';
import { ElfSection, type ElfFile } from './model.js';

// A new, empty x86-64 relocatable object: the null section, .symtab with its
// null symbol, .strtab and .shstrtab. Sections and symbols are added with the
// helpers in edit.ts; the writer computes all indices and string tables.

export function createRelocatable(name = '<new object>'): ElfFile {
  const ident = new Uint8Array(EI_NIDENT);
  ident.set(ELFMAG);
  ident[4] = ELFCLASS64;
  ident[5] = ELFDATA2LSB;
  ident[6] = EV_CURRENT;
  const nul = new ElfSection({ name: '', type: SHT_NULL, addralign: 0 });
  const symtab = new ElfSection({ name: '.symtab', type: SHT_SYMTAB, addralign: 8, entsize: SYM_SIZE });
  const strtab = new ElfSection({ name: '.strtab', type: SHT_STRTAB, addralign: 1 });
  const shstrtab = new ElfSection({ name: '.shstrtab', type: SHT_STRTAB, addralign: 1 });
  symtab.link = strtab;
  symtab.symbols = [{ index: 0, name: '', value: 0n, size: 0, bind: 0, type: 0, other: 0, section: null, shndx: 0 }];
  const sections = [nul, symtab, strtab, shstrtab];
  sections.forEach((s, i) => (s.index = i));
  return {
    file: name,
    header: { ident, type: ET_REL, machine: EM_X86_64, version: EV_CURRENT, entry: 0n, phoff: 0n, flags: 0, ehsize: EHDR_SIZE, phentsize: 0, phnum: 0, shentsize: SHDR_SIZE },
    sections,
    shstrtab,
  };
}
