import {
  KLP_RELA_PREFIX,
  KLP_SYM_PREFIX,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_RELA_LIVEPATCH,
  SHN_LIVEPATCH,
  SHN_UNDEF,
  SHT_DYNSYM,
  SHT_GROUP,
  SHT_REL,
  SHT_RELA,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
} from './constants.js';
import type { ElfSection, ElfSymbol } from './model.js';

// is-X questions, named the same everywhere.

export function isSymbolTable(type: number): boolean {
  return type === SHT_SYMTAB || type === SHT_DYNSYM;
}

export function isRelocationSection(type: number): boolean {
  return type === SHT_RELA || type === SHT_REL;
}

/** Sections whose contents the writer generates from the model (symbols, relocations, groups, extended indices). */
export function isGeneratedSection(type: number): boolean {
  return isSymbolTable(type) || isRelocationSection(type) || type === SHT_GROUP || type === SHT_SYMTAB_SHNDX;
}

export function isTextSection(s: ElfSection): boolean {
  return (s.flags & SHF_EXECINSTR) !== 0n;
}

export function isAllocSection(s: ElfSection): boolean {
  return (s.flags & SHF_ALLOC) !== 0n;
}

/** A `.klp.rela.<obj>.<section>` section the livepatch core applies. */
export function isLivepatchRelaSection(s: ElfSection): boolean {
  return isRelocationSection(s.type) && ((s.flags & SHF_RELA_LIVEPATCH) !== 0n || s.name.startsWith(KLP_RELA_PREFIX));
}

export function isLocal(sym: ElfSymbol): boolean {
  return sym.bind === STB_LOCAL;
}

export function isWeak(sym: ElfSymbol): boolean {
  return sym.bind === STB_WEAK;
}

export function isUndefined(sym: ElfSymbol): boolean {
  return sym.section === null && sym.shndx === SHN_UNDEF;
}

export function isFunction(sym: ElfSymbol): boolean {
  return sym.type === STT_FUNC;
}

export function isObject(sym: ElfSymbol): boolean {
  return sym.type === STT_OBJECT;
}

export function isSectionSymbol(sym: ElfSymbol): boolean {
  return sym.type === STT_SECTION;
}

export function isFileSymbol(sym: ElfSymbol): boolean {
  return sym.type === STT_FILE;
}

/** A `.klp.sym.<obj>.<name>,<pos>` symbol resolved by the livepatch core. */
export function isLivepatchSymbol(sym: ElfSymbol): boolean {
  return sym.section === null && sym.shndx === SHN_LIVEPATCH && sym.name.startsWith(KLP_SYM_PREFIX);
}
