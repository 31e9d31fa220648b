import {
  EHDR_SIZE,
  EI_CLASS,
  EI_DATA,
  EI_NIDENT,
  EI_VERSION,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFMAG,
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  ET_REL,
  EV_CURRENT,
  SHDR_SIZE,
  SHN_LORESERVE,
  SHN_XINDEX,
  SHT_NOBITS,
} from './constants.js';
import type { ElfDiagnostics } from './diagnostics.js';
import { view, type ElfImage } from './image.js';
import type { ElfHeader } from './model.js';
import { elfTypeName } from './names.js';

// The ELF header and the section header table, as raw fields.

export interface ParsedElfHeader {
  header: ElfHeader;
  shoff: number;
  /** e_shnum and e_shstrndx as stored (0 / SHN_XINDEX mean "look in section header 0"). */
  eShnum: number;
  eShstrndx: number;
}

/** One section header with its fields as stored, offsets checked against the file. */
export interface RawSectionHeader {
  name: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

const MAX_ALIGN = 2n ** 32n;

export function parseElfHeader(image: ElfImage, diag: ElfDiagnostics): ParsedElfHeader {
  if (image.size < 4) throw diag.notElf();
  const magic = image.bytes(0, 4, 'ELF magic');
  if (ELFMAG.some((b, i) => magic[i] !== b)) throw diag.notElf();
  if (image.size < EI_NIDENT) throw diag.truncated('ELF identification', 0, EI_NIDENT, image.size);
  const ident = image.bytes(0, EI_NIDENT, 'ELF identification');
  if (ident[EI_CLASS] !== ELFCLASS64) throw diag.unsupported('class', ident[EI_CLASS] === 1 ? 'ELFCLASS32' : String(ident[EI_CLASS]), 'ELFCLASS64');
  if (ident[EI_DATA] !== ELFDATA2LSB) throw diag.unsupported('byte order', ident[EI_DATA] === 2 ? 'big endian' : String(ident[EI_DATA]), 'little endian');
  if (ident[EI_VERSION] !== EV_CURRENT) throw diag.unsupported('version', String(ident[EI_VERSION]), String(EV_CURRENT));
  const b = image.bytes(0, EHDR_SIZE, 'ELF header');
  const v = view(b);
  const type = v.getUint16(16, true);
  const machine = v.getUint16(18, true);
  if (machine !== EM_X86_64) throw diag.unsupported('machine', String(machine), `${EM_X86_64} (x86-64)`);
  if (type !== ET_REL && type !== ET_EXEC && type !== ET_DYN) {
    throw diag.unsupported('type', elfTypeName(type), 'REL (object, module), EXEC (vmlinux) or DYN');
  }
  const shoffBig = v.getBigUint64(40, true);
  const shentsize = v.getUint16(58, true);
  const eShnum = v.getUint16(60, true);
  const eShstrndx = v.getUint16(62, true);
  if (shoffBig > BigInt(image.size)) throw diag.truncated('section header table', diag.safe(shoffBig, 'e_shoff'), SHDR_SIZE, image.size);
  const shoff = Number(shoffBig);
  if (shoff !== 0 && shentsize !== SHDR_SIZE) throw diag.malformed(`e_shentsize is ${shentsize}, not ${SHDR_SIZE}`, undefined, 58);
  const header: ElfHeader = {
    ident: Uint8Array.from(b.subarray(0, EI_NIDENT)),
    type,
    machine,
    version: v.getUint32(20, true),
    entry: v.getBigUint64(24, true),
    phoff: v.getBigUint64(32, true),
    flags: v.getUint32(48, true),
    ehsize: v.getUint16(52, true),
    phentsize: v.getUint16(54, true),
    phnum: v.getUint16(56, true),
    shentsize,
  };
  return { header, shoff, eShnum, eShstrndx };
}

function readRaw(b: Uint8Array): RawSectionHeader & { offset64: bigint; size64: bigint; addralign64: bigint; entsize64: bigint } {
  const v = view(b);
  return {
    name: v.getUint32(0, true),
    type: v.getUint32(4, true),
    flags: v.getBigUint64(8, true),
    addr: v.getBigUint64(16, true),
    offset64: v.getBigUint64(24, true),
    size64: v.getBigUint64(32, true),
    link: v.getUint32(40, true),
    info: v.getUint32(44, true),
    addralign64: v.getBigUint64(48, true),
    entsize64: v.getBigUint64(56, true),
    offset: 0,
    size: 0,
    addralign: 0,
    entsize: 0,
  };
}

/** Where the section header table is and how many entries it has (e_shnum 0 means: in header 0's sh_size). */
export function sectionTableExtent(parsed: ParsedElfHeader, image: ElfImage, diag: ElfDiagnostics): { count: number; shstrndx: number } {
  const { shoff, eShnum, eShstrndx } = parsed;
  if (shoff === 0) {
    if (eShnum !== 0) throw diag.malformed(`e_shnum is ${eShnum} but there is no section header table (e_shoff 0)`, undefined, 60);
    return { count: 0, shstrndx: 0 };
  }
  let count = eShnum;
  let shstrndx = eShstrndx;
  if (eShnum === 0 || eShstrndx === SHN_XINDEX) {
    const sh0 = readRaw(image.bytes(shoff, SHDR_SIZE, 'section header 0'));
    if (eShnum === 0) {
      if (sh0.size64 > BigInt(image.size)) throw diag.tooLarge('section count (section header 0 sh_size)', sh0.size64, image.size, undefined, shoff + 32);
      count = Number(sh0.size64);
    }
    if (eShstrndx === SHN_XINDEX) shstrndx = sh0.link;
  }
  if (count === 0) return { count: 0, shstrndx: 0 };
  if (shoff + count * SHDR_SIZE > image.size) throw diag.truncated(`section header table (${count} entries)`, shoff, count * SHDR_SIZE, image.size);
  if (shstrndx >= count && shstrndx !== 0) throw diag.outOfRange('section name table index (e_shstrndx)', shstrndx, count, undefined, 62);
  return { count, shstrndx };
}

export function parseSectionHeaders(image: ElfImage, diag: ElfDiagnostics, shoff: number, count: number): RawSectionHeader[] {
  const table = image.bytes(shoff, count * SHDR_SIZE, 'section header table');
  const out: RawSectionHeader[] = [];
  for (let i = 0; i < count; i++) {
    const at = shoff + i * SHDR_SIZE;
    const r = readRaw(table.subarray(i * SHDR_SIZE, (i + 1) * SHDR_SIZE));
    const where = `section header ${i}`;
    if (i === 0) {
      // Entry 0 carries the extended count and name table index; its other fields are not offsets.
      out.push({ name: 0, type: 0, flags: 0n, addr: 0n, offset: 0, size: 0, link: 0, info: 0, addralign: 0, entsize: 0 });
      continue;
    }
    const offset = diag.safe(r.offset64, `${where} sh_offset`, undefined, at + 24);
    const size = diag.safe(r.size64, `${where} sh_size`, undefined, at + 32);
    if (r.type !== SHT_NOBITS && size > 0 && offset + size > image.size) {
      throw diag.truncated(`contents of ${where}`, offset, size, image.size);
    }
    if (r.addralign64 > MAX_ALIGN) throw diag.tooLarge(`${where} sh_addralign`, r.addralign64, MAX_ALIGN, undefined, at + 48);
    const addralign = Number(r.addralign64);
    if (addralign > 1 && (addralign & (addralign - 1)) !== 0) throw diag.malformed(`${where} sh_addralign ${addralign} is not a power of two`, undefined, at + 48);
    if (r.entsize64 > BigInt(image.size) && r.entsize64 > 0xffffn) throw diag.tooLarge(`${where} sh_entsize`, r.entsize64, image.size, undefined, at + 56);
    out.push({ name: r.name, type: r.type, flags: r.flags, addr: r.addr, offset, size, link: r.link, info: r.info, addralign, entsize: Number(r.entsize64) });
  }
  return out;
}

/** e_shnum / e_shstrndx as stored, with the overflow into header 0 when there are too many sections. */
export function extendedNumbering(count: number, shstrndx: number): { eShnum: number; eShstrndx: number; sh0Size: number; sh0Link: number } {
  const bigCount = count >= SHN_LORESERVE;
  const bigIndex = shstrndx >= SHN_LORESERVE;
  return {
    eShnum: bigCount ? 0 : count,
    eShstrndx: bigIndex ? SHN_XINDEX : shstrndx,
    sh0Size: bigCount ? count : 0,
    sh0Link: bigIndex ? shstrndx : 0,
  };
}

export function writeElfHeader(out: Uint8Array, header: ElfHeader, layout: { shoff: number; eShnum: number; eShstrndx: number; phoff: bigint; phnum: number }): void {
  out.set(header.ident.subarray(0, EI_NIDENT), 0);
  out.set(ELFMAG, 0);
  out[EI_CLASS] = ELFCLASS64;
  out[EI_DATA] = ELFDATA2LSB;
  out[EI_VERSION] = EV_CURRENT;
  const v = view(out);
  v.setUint16(16, header.type, true);
  v.setUint16(18, header.machine, true);
  v.setUint32(20, header.version, true);
  v.setBigUint64(24, header.entry, true);
  v.setBigUint64(32, layout.phoff, true);
  v.setBigUint64(40, BigInt(layout.shoff), true);
  v.setUint32(48, header.flags, true);
  v.setUint16(52, header.ehsize, true);
  v.setUint16(54, header.phentsize, true);
  v.setUint16(56, layout.phnum, true);
  v.setUint16(58, layout.eShnum === 0 && layout.shoff === 0 ? header.shentsize : SHDR_SIZE, true);
  v.setUint16(60, layout.eShnum, true);
  v.setUint16(62, layout.eShstrndx, true);
}

export interface SectionHeaderFields {
  name: number;
  type: number;
  flags: bigint;
  addr: bigint;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export function writeSectionHeader(v: DataView, at: number, h: SectionHeaderFields, offset: number): void {
  v.setUint32(at, h.name, true);
  v.setUint32(at + 4, h.type, true);
  v.setBigUint64(at + 8, h.flags, true);
  v.setBigUint64(at + 16, h.addr, true);
  v.setBigUint64(at + 24, BigInt(offset), true);
  v.setBigUint64(at + 32, BigInt(h.size), true);
  v.setUint32(at + 40, h.link, true);
  v.setUint32(at + 44, h.info, true);
  v.setBigUint64(at + 48, BigInt(h.addralign), true);
  v.setBigUint64(at + 56, BigInt(h.entsize), true);
}
