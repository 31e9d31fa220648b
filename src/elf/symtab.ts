import { EHDR_SIZE, SHDR_SIZE, SHN_XINDEX, SHT_NOBITS, SHT_SYMTAB_SHNDX } from './constants.js';
import { ElfDiagnostics } from './diagnostics.js';
import { parseElfHeader, parseSectionHeaders, sectionTableExtent } from './headers.js';
import { sparseImage, type ElfImage, type LoadedRange } from './image.js';
import type { ElfFile } from './model.js';
import { parseElfImage } from './parse.js';
import { isSymbolTable } from './predicates.js';
import { StringTable } from './strtab.js';

// A partial reader for big files (a 600 MB vmlinux): the ELF header, the
// section headers, the section name table, the symbol tables with their
// string tables, and whatever else the caller asks for; nothing more is read,
// so time and memory are bounded by those pieces. Pure: the caller supplies
// the function that reads a byte range.

/** Reads `length` bytes at `offset` of the file. */
export type ReadRange = (offset: number, length: number) => Promise<Uint8Array>;

export interface PartialReadOptions {
  /** Name for messages. */
  file: string;
  /** Size of the whole file. */
  size: number;
  /** Load these sections' contents too (e.g. relocation sections for a dump). */
  include?: (section: { index: number; name: string; type: number }) => boolean;
}

async function load(read: ReadRange, offset: number, length: number, image: Pick<ElfImage, 'file' | 'size'>, what: string): Promise<LoadedRange> {
  const diag = new ElfDiagnostics(image.file);
  if (offset < 0 || offset + length > image.size) throw diag.truncated(what, offset, length, image.size);
  const data = length === 0 ? new Uint8Array(0) : await read(offset, length);
  if (data.length !== length) throw diag.truncated(what, offset, length, offset + data.length);
  return { offset, data };
}

/** The model of a file with only the symbol tables (and `include`d sections) loaded; other sections' data is not readable. */
export async function readElfPartial(read: ReadRange, options: PartialReadOptions): Promise<ElfFile> {
  const { file, size } = options;
  const diag = new ElfDiagnostics(file);
  const ranges: LoadedRange[] = [];
  const head = await load(read, 0, Math.min(EHDR_SIZE, size), { file, size }, 'ELF header');
  ranges.push(head);
  const step = (): ElfImage => sparseImage(ranges, size, file);
  const parsed = parseElfHeader(step(), diag);
  if (parsed.shoff !== 0 && (parsed.eShnum === 0 || parsed.eShstrndx === SHN_XINDEX)) {
    ranges.push(await load(read, parsed.shoff, SHDR_SIZE, { file, size }, 'section header 0'));
  }
  const { count, shstrndx } = sectionTableExtent(parsed, step(), diag);
  if (count > 0) ranges.push(await load(read, parsed.shoff, count * SHDR_SIZE, { file, size }, 'section header table'));
  const raws = parseSectionHeaders(step(), diag, parsed.shoff, count);

  const wanted = new Set<number>();
  const want = (index: number): void => {
    const r = raws[index];
    if (index > 0 && r && r.type !== SHT_NOBITS) wanted.add(index);
  };
  if (shstrndx > 0) want(shstrndx);
  const names = raws.map(() => '');
  if (shstrndx > 0 && raws[shstrndx]?.type !== SHT_NOBITS) {
    const sh = raws[shstrndx] as (typeof raws)[number];
    ranges.push(await load(read, sh.offset, sh.size, { file, size }, 'section name table'));
    const table = new StringTable(file, `section [${shstrndx}]`, step().bytes(sh.offset, sh.size, 'section name table'));
    raws.forEach((r, i) => {
      if (i > 0) names[i] = table.name(r.name, `section [${i}]`);
    });
  }
  raws.forEach((r, i) => {
    if (i === 0) return;
    if (isSymbolTable(r.type) || r.type === SHT_SYMTAB_SHNDX || options.include?.({ index: i, name: names[i] as string, type: r.type })) {
      want(i);
      // what a loaded section needs to be parsed: its string or symbol table
      if (r.link > 0 && r.link < raws.length) {
        want(r.link);
        const linked = raws[r.link];
        if (linked && isSymbolTable(linked.type) && linked.link > 0 && linked.link < raws.length) want(linked.link);
      }
    }
  });
  for (const i of [...wanted].sort((a, b) => a - b)) {
    const r = raws[i] as (typeof raws)[number];
    if (ranges.some((x) => x.offset === r.offset && x.data.length === r.size)) continue;
    ranges.push(await load(read, r.offset, r.size, { file, size }, `section [${i}] ${names[i] ?? ''}`));
  }
  return parseElfImage(step(), { loaded: (index) => wanted.has(index) });
}

/** The section headers and symbol table of a file, e.g. a vmlinux. */
export function readSymbolTable(read: ReadRange, options: { file: string; size: number }): Promise<ElfFile> {
  return readElfPartial(read, options);
}
