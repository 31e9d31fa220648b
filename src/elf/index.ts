// The ELF layer: parse bytes → model, serialize model → bytes, find-X-by-Y
// lookups, edits. Pure (no file system, no processes) except files.ts, the
// one place ELF files are read from and written to disk.
export * from './constants.js';
export { ElfSection } from './model.js';
export type { ElfFile, ElfGroup, ElfHeader, ElfOrigin, ElfRela, ElfSymbol, SectionInit } from './model.js';
export { parseElf, parseElfImage, type ParseOptions, type ImageParseOptions } from './parse.js';
export { serializeElf, type SerializeOptions } from './serialize.js';
export { buildIndex, type ElfIndex } from './lookup.js';
export { readElfPartial, readSymbolTable, type ReadRange, type PartialReadOptions } from './symtab.js';
export { createRelocatable } from './create.js';
export {
  addRelaSection,
  addSection,
  addSymbol,
  ensureSectionSymbol,
  findSymtab,
  removeSection,
  renumber,
  renumberSections,
  type RemovedParts,
  type RemoveOptions,
  type SymbolInit,
} from './edit.js';
export * from './predicates.js';
export { parseModinfo, serializeModinfo, modinfoOf, modinfoValue, type ModinfoEntry } from './modinfo.js';
export { parseNotes, serializeNotes, notesOf, allNotes, type ElfNote } from './notes.js';
export { isComdat } from './groups.js';
export { reservedIndexName, sectionFlagsString, sectionTypeName, symbolBindName, symbolTypeName, visibilityName } from './names.js';
export { wholeImage, sparseImage, type ElfImage, type LoadedRange } from './image.js';
export {
  formatLivepatchRelaSectionName,
  formatLivepatchSymbolName,
  livepatchRelaObject,
  parseLivepatchSymbolName,
  symbolAtSympos,
  type LivepatchSymbolName,
} from './livepatch.js';
export { readKlpTables, type KlpNewCode, type KlpTableFunc, type KlpTableObject, type KlpTables } from './klp-tables.js';
export { MAX_WHOLE_FILE, openElfSymbols, readElfFile, readElfHeader, readElfSymbols, writeElfBytes, writeElfFile, type OpenElf } from './files.js';
