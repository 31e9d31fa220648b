import { RELA_SIZE, SHF_GROUP, SHF_INFO_LINK, SHF_LINK_ORDER, SHN_UNDEF, SHT_RELA, SHT_SYMTAB, STB_LOCAL, STT_NOTYPE, STT_SECTION, STV_DEFAULT } from './constants.js';
import { ElfDiagnostics } from './diagnostics.js';
import { ElfSection, type ElfFile, type ElfRela, type ElfSymbol, type SectionInit } from './model.js';
import { isLivepatchRelaSection, isRelocationSection, isSymbolTable } from './predicates.js';
import { writeOrder } from './symbols.js';

// Edits on the model. The model links by reference, so an edit only has to
// keep references pointing at things that are still in the file; indices are
// the writer's business (and renumber() refreshes the informational ones).

export function findSymtab(file: ElfFile): ElfSection | undefined {
  return file.sections.find((s) => s.type === SHT_SYMTAB) ?? file.sections.find((s) => isSymbolTable(s.type));
}

function requireSymtab(file: ElfFile): ElfSection & { symbols: ElfSymbol[] } {
  const symtab = findSymtab(file);
  if (!symtab?.symbols) throw new ElfDiagnostics(file.file).modelInvalid('the file has no (loaded) symbol table');
  return symtab as ElfSection & { symbols: ElfSymbol[] };
}

/** Adds a section at the end of the header table, or right after `after`. */
export function addSection(file: ElfFile, init: SectionInit, options: { after?: ElfSection } = {}): ElfSection {
  const s = new ElfSection(init);
  const at = options.after ? file.sections.indexOf(options.after) + 1 : file.sections.length;
  file.sections.splice(at > 0 ? at : file.sections.length, 0, s);
  renumberSections(file);
  return s;
}

export interface SymbolInit {
  name: string;
  value?: bigint;
  size?: number;
  bind?: number;
  type?: number;
  other?: number;
  section?: ElfSection | null;
  /** For symbols without a section: SHN_UNDEF (default), SHN_ABS, SHN_LIVEPATCH ... */
  shndx?: number;
}

/** Adds a symbol to the symbol table; the writer moves locals before globals. */
export function addSymbol(file: ElfFile, init: SymbolInit): ElfSymbol {
  const symtab = requireSymtab(file);
  const sym: ElfSymbol = {
    index: symtab.symbols.length,
    name: init.name,
    value: init.value ?? 0n,
    size: init.size ?? 0,
    bind: init.bind ?? STB_LOCAL,
    type: init.type ?? STT_NOTYPE,
    other: init.other ?? STV_DEFAULT,
    section: init.section ?? null,
    shndx: init.section ? file.sections.indexOf(init.section) : (init.shndx ?? SHN_UNDEF),
  };
  symtab.symbols.push(sym);
  return sym;
}

/** The STT_SECTION symbol of a section, added if it has none. */
export function ensureSectionSymbol(file: ElfFile, section: ElfSection): ElfSymbol {
  const symtab = requireSymtab(file);
  return symtab.symbols.find((s) => s.type === STT_SECTION && s.section === section) ?? addSymbol(file, { name: '', type: STT_SECTION, section });
}

/**
 * The `.rela<base>` section of `base` with `relas` appended: the existing
 * (non-livepatch) one, or a new one placed right after `base` (as gcc does).
 */
export function addRelaSection(file: ElfFile, base: ElfSection, relas: ElfRela[] = []): ElfSection {
  const symtab = requireSymtab(file);
  const existing = file.sections.find((s) => isRelocationSection(s.type) && s.base === base && !isLivepatchRelaSection(s) && s.relas);
  if (existing?.relas) {
    for (const r of relas) existing.relas.push(r);
    return existing;
  }
  const s = addSection(file, { name: `.rela${base.name}`, type: SHT_RELA, flags: SHF_INFO_LINK | (base.flags & SHF_GROUP), addralign: 8, entsize: RELA_SIZE }, { after: base });
  s.link = symtab;
  s.base = base;
  s.relas = relas;
  return s;
}

export interface RemovedParts {
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /** With keepReferences: global symbols that were defined in a removed section and are now undefined. */
  undefined: ElfSymbol[];
  /** Relocations elsewhere that pointed at removed symbols (e.g. the __mcount_loc entry of a removed function). */
  relas: { section: ElfSection; rela: ElfRela }[];
}

export interface RemoveOptions {
  /**
   * Keep global and weak symbols defined in the removed sections as undefined
   * symbols, with the relocations that use them (callers then link against a
   * definition elsewhere). By default they are removed with those relocations.
   */
  keepReferences?: boolean;
}

/**
 * Removes a section with everything that cannot outlive it: its relocation
 * sections, sections ordered after it (SHF_LINK_ORDER), the symbols defined in
 * it, relocations elsewhere that use those symbols, and its group membership.
 */
export function removeSection(file: ElfFile, section: ElfSection, options: RemoveOptions = {}): RemovedParts {
  const doomed = new Set<ElfSection>([section]);
  // Dependents, to a fixed point: relocation sections for a removed base, link-order sections.
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of file.sections) {
      if (doomed.has(s)) continue;
      const dependent = (isRelocationSection(s.type) && s.base !== null && doomed.has(s.base)) || ((s.flags & SHF_LINK_ORDER) !== 0n && s.link !== null && doomed.has(s.link));
      if (dependent) {
        doomed.add(s);
        grew = true;
      }
    }
  }
  const removed: RemovedParts = { sections: [...doomed], symbols: [], undefined: [], relas: [] };
  const deadSymbols = new Set<ElfSymbol>();
  for (const s of file.sections) {
    if (!s.symbols || doomed.has(s)) continue;
    s.symbols = s.symbols.filter((sym, i) => {
      if (i === 0 || !sym.section || !doomed.has(sym.section)) return true;
      if (options.keepReferences && sym.bind !== STB_LOCAL && sym.type !== STT_SECTION) {
        Object.assign(sym, { section: null, shndx: SHN_UNDEF, value: 0n, size: 0, type: STT_NOTYPE });
        removed.undefined.push(sym);
        return true;
      }
      deadSymbols.add(sym);
      removed.symbols.push(sym);
      return false;
    });
  }
  for (const s of file.sections) {
    if (doomed.has(s)) continue;
    if (s.relas) {
      s.relas = s.relas.filter((r) => {
        if (!deadSymbols.has(r.symbol)) return true;
        removed.relas.push({ section: s, rela: r });
        return false;
      });
    }
  }
  // Groups: drop removed members; a group whose signature went goes too, releasing its members.
  const deadGroups = new Set<ElfSection>();
  for (const s of file.sections) {
    if (!s.group || doomed.has(s)) continue;
    s.group.members = s.group.members.filter((m) => !doomed.has(m));
    if (deadSymbols.has(s.group.signature) || s.group.members.length === 0) {
      deadGroups.add(s);
      for (const m of s.group.members) m.flags &= ~SHF_GROUP;
    }
  }
  for (const g of deadGroups) {
    doomed.add(g);
    removed.sections.push(g);
  }
  file.sections = file.sections.filter((s) => !doomed.has(s));
  renumberSections(file);
  return removed;
}

/** Refreshes the informational `index` of every section. */
export function renumberSections(file: ElfFile): void {
  file.sections.forEach((s, i) => (s.index = i));
}

/**
 * Puts each symbol table in write order (null symbol, locals, then the rest,
 * each in model order) and refreshes every `index`, so that the indices a
 * caller reads match the file the writer will produce.
 */
export function renumber(file: ElfFile): void {
  renumberSections(file);
  for (const s of file.sections) {
    if (!s.symbols) continue;
    s.symbols = writeOrder(s.symbols);
    s.symbols.forEach((x, i) => (x.index = i));
  }
}
