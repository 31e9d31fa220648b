import {
  EHDR_SIZE,
  SHDR_SIZE,
  SHF_INFO_LINK,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_NULL,
  SHT_SYMTAB_SHNDX,
} from './constants.js';
import { ElfDiagnostics } from './diagnostics.js';
import { parseGroup } from './groups.js';
import { parseElfHeader, parseSectionHeaders, sectionTableExtent, type ParsedElfHeader, type RawSectionHeader } from './headers.js';
import { wholeImage, type ElfImage } from './image.js';
import { ElfSection, type ElfFile } from './model.js';
import { isGeneratedSection, isRelocationSection, isSymbolTable } from './predicates.js';
import { parseRelocations } from './relocations.js';
import { StringTable } from './strtab.js';
import { parseSymbols } from './symbols.js';

// bytes → model. Validates as it reads: every offset and index is checked
// before use, and nothing is allocated that the file's own size does not
// bound, so bad input ends in a typed error, not an exception or a hang.

export interface ParseOptions {
  /** Name for messages (usually the path). */
  file?: string;
}

export function parseElf(data: Uint8Array, options: ParseOptions = {}): ElfFile {
  return parseElfImage(wholeImage(data, options.file ?? '<memory>'));
}

export interface ImageParseOptions {
  /** For partial reads: whether a section's contents were loaded (default: all were). */
  loaded?: (index: number) => boolean;
}

const PHDR_SIZE = 56;

/** Sections, ELF header and header tables must not share file bytes. */
function checkOverlaps(parsed: ParsedElfHeader, raws: readonly RawSectionHeader[], names: readonly string[], image: ElfImage, diag: ElfDiagnostics): void {
  const ranges: { start: number; end: number; what: string }[] = [{ start: 0, end: EHDR_SIZE, what: 'the ELF header' }];
  const { header } = parsed;
  if (header.phnum > 0 && header.phoff !== 0n) {
    if (header.phentsize !== PHDR_SIZE) throw diag.malformed(`e_phentsize is ${header.phentsize}, not ${PHDR_SIZE}`, undefined, 54);
    const phoff = diag.safe(header.phoff, 'e_phoff');
    const length = header.phnum * PHDR_SIZE;
    if (phoff + length > image.size) throw diag.truncated('program header table', phoff, length, image.size);
    ranges.push({ start: phoff, end: phoff + length, what: 'the program header table' });
  }
  if (raws.length > 0) ranges.push({ start: parsed.shoff, end: parsed.shoff + raws.length * SHDR_SIZE, what: 'the section header table' });
  raws.forEach((r, i) => {
    if (i > 0 && r.type !== SHT_NOBITS && r.size > 0) ranges.push({ start: r.offset, end: r.offset + r.size, what: `section [${i}] ${names[i] || '(unnamed)'}` });
  });
  ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  let reach = ranges[0] as (typeof ranges)[number];
  for (let i = 1; i < ranges.length; i++) {
    const r = ranges[i] as (typeof ranges)[number];
    if (r.start < reach.end) throw diag.overlap(reach.what, r.what, r.start);
    if (r.end > reach.end) reach = r;
  }
}

export function parseElfImage(image: ElfImage, options: ImageParseOptions = {}): ElfFile {
  const diag = new ElfDiagnostics(image.file);
  const parsed = parseElfHeader(image, diag);
  const { count, shstrndx } = sectionTableExtent(parsed, image, diag);
  const raws = parseSectionHeaders(image, diag, parsed.shoff, count);
  const loaded = options.loaded ?? (() => true);

  // Section names come first: every later message names the section.
  const names: string[] = raws.map(() => '');
  const shstrRaw = shstrndx > 0 ? raws[shstrndx] : undefined;
  if (shstrRaw) {
    if (shstrRaw.type === SHT_NOBITS || isGeneratedSection(shstrRaw.type)) throw diag.malformed(`section name table [${shstrndx}] is not a string table (type ${shstrRaw.type})`);
    const table = new StringTable(image.file, `section [${shstrndx}]`, image.bytes(shstrRaw.offset, shstrRaw.size, 'section name table'));
    for (let i = 1; i < raws.length; i++) names[i] = table.name((raws[i] as RawSectionHeader).name, `section [${i}]`);
  }
  checkOverlaps(parsed, raws, names, image, diag);

  const sections = raws.map((r, i) => {
    if (i === 0) return new ElfSection({ name: '', type: SHT_NULL, addralign: 0 });
    const name = names[i] as string;
    const load = r.type === SHT_NOBITS ? undefined : () => image.bytes(r.offset, r.size, 'section contents', name);
    const s = new ElfSection({ name, type: r.type, flags: r.flags, addr: r.addr, addralign: r.addralign, entsize: r.entsize, size: r.size }, load);
    s.index = i;
    s.nameOffset = r.name;
    s.origin = { image, index: i, offset: r.offset, size: r.size };
    return s;
  });
  const sectionAt = (index: number, what: string, owner: ElfSection): ElfSection => {
    const s = index > 0 ? sections[index] : undefined;
    if (!s) throw diag.outOfRange(what, index, sections.length, owner.name);
    return s;
  };

  // sh_link is a section header index for every type rebootless meets; sh_info is one for relocation sections.
  raws.forEach((r, i) => {
    const s = sections[i] as ElfSection;
    if (i === 0) return;
    if (r.link !== 0) s.link = sectionAt(r.link, `sh_link of section [${i}] ${s.name}`, s);
    if (isRelocationSection(r.type) || (r.type !== SHT_GROUP && !isSymbolTable(r.type) && (r.flags & SHF_INFO_LINK) !== 0n)) {
      if (r.info !== 0) s.base = sectionAt(r.info, `sh_info of section [${i}] ${s.name}`, s);
    } else {
      s.info = r.info;
    }
  });

  const contents = (s: ElfSection): Uint8Array | null => (loaded(s.index) ? s.data : null);

  // Symbol tables, with their extended index tables.
  const shndxFor = new Map<ElfSection, ElfSection>();
  for (const x of sections) if (x.type === SHT_SYMTAB_SHNDX && x.link && !shndxFor.has(x.link)) shndxFor.set(x.link, x);
  for (const s of sections) {
    if (!isSymbolTable(s.type)) continue;
    const data = contents(s);
    if (!data) continue;
    let strings = null;
    if (s.link) {
      if (s.link.type === SHT_NOBITS || isGeneratedSection(s.link.type)) throw diag.malformed(`string table ${s.link.name} of ${s.name} is not a string table (type ${s.link.type})`, s.name);
      const strData = contents(s.link);
      if (!strData) throw diag.modelInvalid(`string table ${s.link.name} of ${s.name} was not loaded`, s.name);
      strings = new StringTable(image.file, s.link.name, strData);
    }
    const shndxSection = shndxFor.get(s);
    const shndx = shndxSection ? contents(shndxSection) : null;
    s.symbols = parseSymbols({ section: s, data, strings, shndx, sections }, diag);
  }

  for (const s of sections) {
    if (isRelocationSection(s.type)) {
      const data = contents(s);
      if (!data) continue;
      if (data.length > 0 && (!s.link || !isSymbolTable(s.link.type))) throw diag.malformed(`relocation section ${s.name} does not link to a symbol table`, s.name);
      if (s.link && !s.link.symbols && data.length > 0) throw diag.modelInvalid(`symbol table of ${s.name} was not loaded`, s.name);
      s.relas = parseRelocations(s, data, s.link?.symbols ?? null, diag);
    } else if (s.type === SHT_GROUP) {
      const data = contents(s);
      if (!data) continue;
      if (!s.link || !isSymbolTable(s.link.type)) throw diag.malformed(`group section ${s.name} does not link to a symbol table`, s.name);
      s.group = parseGroup(s, data, sections, s.link.symbols ?? null, raws[s.index]?.info ?? 0, diag);
    }
  }

  return {
    file: image.file,
    header: parsed.header,
    sections,
    shstrtab: shstrndx > 0 ? (sections[shstrndx] ?? null) : null,
    origin: { image, shoff: parsed.shoff, shnum: count, partial: options.loaded !== undefined },
  };
}
