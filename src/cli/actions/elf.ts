import { once } from 'node:events';
import { relocationTypeName } from '../../arch/x86_64/relocations.js';
import { RebootlessError } from '../../errors/index.js';
import { EI_OSABI, ET_REL, SHT_REL, STB_LOCAL, STT_SECTION } from '../../elf/constants.js';
import { extendedNumbering } from '../../elf/headers.js';
import type { ElfFile, ElfRela, ElfSection, ElfSymbol } from '../../elf/model.js';
import { elfTypeName, reservedIndexName, sectionFlagsString, sectionTypeName, symbolBindName, symbolTypeName, visibilityName } from '../../elf/names.js';
import { isRelocationSection, isSymbolTable } from '../../elf/predicates.js';
import { serializeElf } from '../../elf/serialize.js';
import { openElfSymbols, readElfFile, readElfHeader, writeElfBytes, type OpenElf } from '../../elf/files.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';

// `rebootless elf dump` prints what readelf -SW / -sW / -rW print, column for
// column, from rebootless's own ELF model; `elf rewrite` runs a file through
// parse → serialize.

const hex = (n: bigint | number, width: number): string => n.toString(16).padStart(width, '0');

export interface DumpSelection {
  sections: boolean;
  symbols: boolean;
  relocs: boolean;
}

const FLAG_KEY = `Key to Flags:
  W (write), A (alloc), X (execute), M (merge), S (strings), I (info),
  L (link order), O (extra OS processing required), G (group), T (TLS),
  C (compressed), x (unknown), o (OS specific), E (exclude),
  D (mbind), l (large), p (processor specific)
`;

export function renderSections(file: ElfFile): string {
  const { sections } = file;
  if (sections.length === 0) return '\nThere are no sections in this file.\n';
  const lines = [
    `There are ${sections.length} section headers, starting at offset 0x${(file.origin?.shoff ?? 0).toString(16)}:`,
    '',
    'Section Headers:',
    '  [Nr] Name              Type            Address          Off    Size   ES Flg Lk Inf Al',
  ];
  sections.forEach((s, i) => {
    const h = headerFields(file, s, i);
    lines.push(
      `  [${String(i).padStart(2)}] ${s.name.padEnd(17)} ${sectionTypeName(s.type).padEnd(15)} ${hex(s.addr, 16)} ${hex(s.origin?.offset ?? 0, 6)} ${hex(h.size, 6)} ${hex(s.entsize, 2)} ${sectionFlagsString(s.flags).padStart(3)} ${String(h.link).padStart(2)} ${String(h.info).padStart(3)} ${String(s.addralign).padStart(2)}`,
    );
  });
  return lines.join('\n') + '\n' + FLAG_KEY;
}

/** sh_size, sh_link and sh_info as stored (header 0 carries the extended section count and name table index). */
function headerFields(file: ElfFile, s: ElfSection, i: number): { size: number; link: number; info: number } {
  if (i === 0) {
    const n = extendedNumbering(file.sections.length, file.shstrtab?.index ?? 0);
    return { size: n.sh0Size, link: n.sh0Link, info: 0 };
  }
  // a symbol table read from a file shows its sh_info as stored; one built in memory, as the writer will compute it
  const info = s.base ? s.base.index : s.group ? s.group.signature.index : isSymbolTable(s.type) && !s.origin ? firstGlobal(s) : s.info;
  return { size: s.size, link: s.link?.index ?? 0, info };
}

function firstGlobal(s: ElfSection): number {
  const i = s.symbols?.findIndex((x, k) => k > 0 && x.bind !== STB_LOCAL) ?? -1;
  return i < 0 ? (s.symbols?.length ?? s.info) : i;
}

function symbolDisplayName(sym: ElfSymbol): string {
  return sym.type === STT_SECTION && sym.name === '' && sym.section ? sym.section.name : sym.name;
}

function symbolSize(size: number): string {
  return size < 100000 ? String(size).padStart(5) : `0x${size.toString(16)}`;
}

export function renderSymbols(file: ElfFile): string {
  const osabi = file.header.ident[EI_OSABI] ?? 0;
  let out = '';
  for (const table of file.sections) {
    if (!table.symbols) continue;
    const n = table.symbols.length;
    out += `\nSymbol table '${table.name}' contains ${n} ${n === 1 ? 'entry' : 'entries'}:\n   Num:    Value          Size Type    Bind   Vis      Ndx Name\n`;
    const rows = table.symbols.map((sym, i) => {
      const ndx = sym.section ? String(sym.section.index).padStart(4) : reservedIndexName(sym.shndx).padStart(4);
      return `${String(i).padStart(6)}: ${hex(sym.value, 16)} ${symbolSize(sym.size)} ${symbolTypeName(sym.type, osabi).padEnd(7)} ${symbolBindName(sym.bind, osabi).padEnd(6)} ${visibilityName(sym.other).padEnd(7)} ${ndx} ${symbolDisplayName(sym)}`;
    });
    out += rows.join('\n') + '\n';
  }
  return out;
}

function renderRela(r: ElfRela, withAddend: boolean): string {
  const info = (BigInt(r.symbol.index) << 32n) | BigInt(r.type >>> 0);
  const head = `${hex(r.offset, 16)}  ${hex(info, 16)} ${relocationTypeName(r.type).padEnd(22)}`;
  const neg = r.addend < 0n;
  const mag = (neg ? -r.addend : r.addend).toString(16);
  if (r.symbol.index === 0) return withAddend ? `${head}                    ${neg ? '-' : ''}${mag}` : head;
  const sym = `${head} ${hex(r.symbol.value, 16)} ${symbolDisplayName(r.symbol)}`;
  return withAddend ? `${sym} ${neg ? '-' : '+'} ${mag}` : sym;
}

function relocationHeader(s: ElfSection, count: number): string {
  return (
    `\nRelocation section '${s.name}' at offset 0x${(s.origin?.offset ?? 0).toString(16)} contains ${count} ${count === 1 ? 'entry' : 'entries'}:\n` +
    (s.type !== SHT_REL
      ? "    Offset             Info             Type               Symbol's Value  Symbol's Name + Addend\n"
      : "    Offset             Info             Type               Symbol's Value  Symbol's Name\n")
  );
}

function relocationCount(s: ElfSection): number {
  return s.relas?.length ?? Math.floor((s.origin?.size ?? 0) / (s.type === SHT_REL ? 16 : 24));
}

/** One relocation section with its entries, as readelf -rW prints it. */
export function renderRelocationSection(s: ElfSection, relas: readonly ElfRela[] = s.relas ?? []): string {
  return relocationHeader(s, relas.length) + relas.map((r) => renderRela(r, s.type !== SHT_REL) + '\n').join('');
}

export function renderRelocations(file: ElfFile): string {
  const sections = file.sections.filter((s) => isRelocationSection(s.type));
  if (sections.length === 0) return NO_RELOCATIONS;
  return sections.map((s) => renderRelocationSection(s)).join('');
}

const NO_RELOCATIONS = '\nThere are no relocations in this file.\n';

const address = (n: bigint): string => `0x${n.toString(16)}`;

export function elfJson(file: ElfFile, what: DumpSelection): Record<string, unknown> {
  const out: Record<string, unknown> = { file: file.file, type: file.header.type };
  if (what.sections) {
    out.sections = file.sections.map((s, i) => ({
      index: i,
      name: s.name,
      type: sectionTypeName(s.type),
      flags: sectionFlagsString(s.flags),
      flagsValue: address(s.flags),
      address: address(s.addr),
      offset: s.origin?.offset ?? 0,
      ...headerFields(file, s, i),
      entsize: s.entsize,
      align: s.addralign,
    }));
  }
  if (what.symbols) {
    out.symbols = file.sections
      .filter((t) => t.symbols)
      .map((t) => ({
        table: t.name,
        entries: (t.symbols ?? []).map((sym, i) => ({
          index: i,
          name: sym.name,
          value: address(sym.value),
          size: sym.size,
          type: symbolTypeName(sym.type),
          bind: symbolBindName(sym.bind),
          visibility: visibilityName(sym.other),
          section: sym.section ? sym.section.index : reservedIndexName(sym.shndx),
          ...(sym.section ? { sectionName: sym.section.name } : {}),
        })),
      }));
  }
  if (what.relocs) {
    out.relocations = file.sections.filter((s) => isRelocationSection(s.type)).map((s) => ({ ...relocationSectionJson(s), entries: (s.relas ?? []).map(relocationJson) }));
  }
  return out;
}

function relocationSectionJson(s: ElfSection): { section: string; base: string | null } {
  return { section: s.name, base: s.base?.name ?? null };
}

function relocationJson(r: ElfRela): Record<string, unknown> {
  return { offset: address(r.offset), type: relocationTypeName(r.type), symbol: symbolDisplayName(r.symbol), symbolIndex: r.symbol.index, addend: r.addend.toString() };
}

type Write = (text: string) => Promise<void>;

/** Streams `elf dump`: relocations are read and printed a chunk at a time, so a vmlinux with millions of them fits in memory. */
async function dump(open: OpenElf, what: DumpSelection, json: boolean, write: Write): Promise<void> {
  const { file } = open;
  const relocSections = what.relocs ? file.sections.filter((s) => isRelocationSection(s.type)) : [];
  if (json) {
    const head = JSON.stringify(elfJson(file, { ...what, relocs: false }), null, 2);
    if (!what.relocs) return write(head + '\n');
    await write(`${head.slice(0, -2)},\n  "relocations": [`);
    for (const [i, s] of relocSections.entries()) {
      await write(`${i ? ',' : ''}\n    ${JSON.stringify(relocationSectionJson(s)).slice(0, -1)}, "entries": [`);
      let first = true;
      for await (const chunk of open.relocations(s)) {
        if (chunk.length === 0) continue;
        await write((first ? '\n      ' : ',\n      ') + chunk.map((r) => JSON.stringify(relocationJson(r))).join(',\n      '));
        first = false;
      }
      await write(']}');
    }
    return write('\n  ]\n}\n');
  }
  if (what.sections) await write(renderSections(file));
  if (what.symbols) await write(renderSymbols(file));
  if (!what.relocs) return;
  if (relocSections.length === 0) return write(NO_RELOCATIONS);
  for (const s of relocSections) {
    await write(relocationHeader(s, relocationCount(s)));
    for await (const chunk of open.relocations(s)) await write(chunk.map((r) => renderRela(r, s.type !== SHT_REL) + '\n').join(''));
  }
}

export interface DumpFlags {
  sections?: boolean;
  symbols?: boolean;
  relocs?: boolean;
  json?: boolean;
}

/** `rebootless elf dump FILE`. */
export async function elfDump(ctx: CliContext, setExit: SetExit, path: string, opts: DumpFlags): Promise<void> {
  const any = opts.sections === true || opts.symbols === true || opts.relocs === true;
  const what: DumpSelection = { sections: !any || opts.sections === true, symbols: !any || opts.symbols === true, relocs: !any || opts.relocs === true };
  // Only the header tables and symbol tables are read whole; relocations are streamed: cheap even for vmlinux.
  const open = await openElfSymbols(path);
  const out = ctx.io.stdout;
  const write: Write = async (text) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  try {
    await dump(open, what, opts.json === true, write);
  } finally {
    await open.close();
  }
  setExit(0);
}

/** `rebootless elf rewrite IN OUT`. */
export async function elfRewrite(ctx: CliContext, setExit: SetExit, input: string, output: string, opts: { relayout?: boolean; json?: boolean }): Promise<void> {
  // A vmlinux is refused before it is read whole: the writer writes relocatable objects only.
  const header = await readElfHeader(input);
  if (header.type !== ET_REL) {
    throw new RebootlessError('ELF_UNSUPPORTED', { file: input, field: 'type for writing', value: elfTypeName(header.type), expected: 'REL: only relocatable objects and modules are written' }, { location: { file: input } });
  }
  const file = await readElfFile(input);
  const bytes = serializeElf(file, { freshLayout: opts.relayout === true });
  const original = file.origin ? file.origin.image.bytes(0, file.origin.image.size, 'original file') : new Uint8Array(0);
  const identical = Buffer.compare(original, bytes) === 0;
  await writeElfBytes(output, bytes);
  if (opts.json) printJson(ctx.io.stdout, { input, output, bytes: bytes.length, identical, sections: file.sections.length });
  else ctx.io.stdout.write(`${output}: ${bytes.length} bytes, ${file.sections.length} sections, ${identical ? 'byte-identical to' : 'differs from'} ${input}\n`);
  setExit(0);
}
