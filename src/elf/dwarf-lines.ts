import { ET_REL, R_X86_64_32, R_X86_64_64 } from './constants.js';
import type { ElfDiagnostics } from './diagnostics.js';
import type { ElfFile } from './model.js';

// The file tables of DWARF line programs (.debug_line, versions 2 to 5):
// for each compilation unit, its source file and every file its debug
// information names — with gcc's DWARF 5, each header whose functions,
// types or declarations the unit's code or debug info uses. Only the headers
// of the line programs are read; their opcodes are skipped. Paths are as the
// compiler wrote them, relative to the unit's build directory unless absolute.

export interface LineTableUnit {
  /** The unit's own source (file 0 in DWARF 5, the first file before). */
  unit: string;
  /** Every file of the table, the unit's own included, in table order. */
  files: string[];
}

export interface LineSections {
  /** .debug_line */
  line: Uint8Array;
  /** .debug_line_str (DW_FORM_line_strp), when present. */
  lineStr?: Uint8Array;
  /** .debug_str (DW_FORM_strp), when present. */
  str?: Uint8Array;
}

/**
 * The line sections of a file as a linked file has them: in a relocatable
 * object (a unit's .o, a module's debug file) the string offsets of a line
 * program are left to relocations (R_X86_64_32/64 against the string
 * section), applied here to a copy. Undefined when the file has no .debug_line.
 */
export function lineSectionsOf(file: ElfFile): LineSections | undefined {
  const data = (name: string): Uint8Array | undefined => {
    const sec = file.sections.find((s) => s.name === name);
    if (!sec) return undefined;
    if (file.header.type !== ET_REL) return sec.data;
    const relas = file.sections.find((s) => s.base === sec && s.relas)?.relas ?? [];
    if (!relas.length) return sec.data;
    const out = Uint8Array.from(sec.data);
    const v = new DataView(out.buffer);
    for (const r of relas) {
      const value = r.symbol.value + r.addend;
      const at = Number(r.offset);
      if (r.type === R_X86_64_32 && at + 4 <= out.length) v.setUint32(at, Number(value & 0xffffffffn), true);
      if (r.type === R_X86_64_64 && at + 8 <= out.length) v.setBigUint64(at, BigInt.asUintN(64, value), true);
    }
    return out;
  };
  const line = data('.debug_line');
  if (!line) return undefined;
  const lineStr = data('.debug_line_str');
  const str = data('.debug_str');
  return { line, ...(lineStr ? { lineStr } : {}), ...(str ? { str } : {}) };
}

const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;

const DW_FORM_block = 0x09;
const DW_FORM_data1 = 0x0b;
const DW_FORM_data2 = 0x05;
const DW_FORM_data4 = 0x06;
const DW_FORM_data8 = 0x07;
const DW_FORM_data16 = 0x1e;
const DW_FORM_line_strp = 0x1f;
const DW_FORM_string = 0x08;
const DW_FORM_strp = 0x0e;
const DW_FORM_udata = 0x0f;

/** A bounds-checked little-endian reader over one section. */
class Reader {
  at = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly diag: ElfDiagnostics,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): number {
    if (this.at + n > this.bytes.length) throw this.diag.malformed(`a line program header runs past the end of .debug_line (${n} bytes at ${this.at})`, '.debug_line', this.at);
    const at = this.at;
    this.at += n;
    return at;
  }
  u8 = (): number => this.view.getUint8(this.need(1));
  u16 = (): number => this.view.getUint16(this.need(2), true);
  u32 = (): number => this.view.getUint32(this.need(4), true);
  u64 = (): number => Number(this.view.getBigUint64(this.need(8), true));
  skip = (n: number): void => void this.need(n);
  uleb = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
  };
  cstring = (): string => {
    const start = this.at;
    const end = this.bytes.indexOf(0, start);
    if (end < 0) throw this.diag.malformed('an unterminated string in a line program header', '.debug_line', start);
    this.at = end + 1;
    return Buffer.from(this.bytes.subarray(start, end)).toString('utf8');
  };
}

function stringAt(table: Uint8Array | undefined, offset: number, name: string, diag: ElfDiagnostics): string {
  if (!table || offset >= table.length) throw diag.malformed(`a line program names offset ${offset} of ${name}, which ${table ? 'is shorter' : 'the file does not have'}`, '.debug_line');
  const end = table.indexOf(0, offset);
  return Buffer.from(table.subarray(offset, end < 0 ? table.length : end)).toString('utf8');
}

const join = (dir: string | undefined, name: string): string => (name.startsWith('/') || !dir ? name : `${dir.replace(/\/$/, '')}/${name}`);

/** Every unit's line table files. */
export function lineTableUnits(s: LineSections, diag: ElfDiagnostics): LineTableUnit[] {
  const r = new Reader(s.line, diag);
  const out: LineTableUnit[] = [];
  while (r.at < s.line.length) {
    let length = r.u32();
    let offsetSize = 4;
    if (length === 0xffffffff) {
      length = r.u64();
      offsetSize = 8;
    }
    const end = r.at + length;
    if (end > s.line.length) throw diag.malformed(`a line program of ${length} bytes runs past the end of .debug_line`, '.debug_line', r.at);
    const version = r.u16();
    if (version < 2 || version > 5) throw diag.malformed(`line program version ${version} (2 to 5 are known)`, '.debug_line', r.at - 2);
    if (version === 5) r.skip(2); // address_size, segment_selector_size
    r.skip(offsetSize); // header_length
    r.skip(version >= 4 ? 5 : 4); // minimum_instruction_length, [maximum_operations_per_instruction], default_is_stmt, line_base, line_range
    const opcodeBase = r.u8();
    r.skip(Math.max(0, opcodeBase - 1));
    const files = version === 5 ? entriesV5(r, s, offsetSize, diag) : entriesV4(r);
    if (files.length) out.push({ unit: files[0] as string, files });
    r.at = end;
  }
  return out;
}

/** DWARF 2–4: include_directories (1-based, 0 is the unit's directory), then file_names. */
function entriesV4(r: Reader): string[] {
  const dirs: string[] = [''];
  for (let d = r.cstring(); d !== ''; d = r.cstring()) dirs.push(d);
  const files: string[] = [];
  for (let name = r.cstring(); name !== ''; name = r.cstring()) {
    const dir = r.uleb();
    r.uleb(); // mtime
    r.uleb(); // length
    files.push(join(dirs[dir], name));
  }
  return files;
}

/** DWARF 5: directory and file entries described by (content type, form) pairs. */
function entriesV5(r: Reader, s: LineSections, offsetSize: number, diag: ElfDiagnostics): string[] {
  const table = (): { path?: string; dir?: number }[] => {
    const formats: [number, number][] = [];
    const count = r.u8();
    for (let k = 0; k < count; k++) formats.push([r.uleb(), r.uleb()]);
    const n = r.uleb();
    const rows: { path?: string; dir?: number }[] = [];
    for (let i = 0; i < n; i++) {
      const row: { path?: string; dir?: number } = {};
      for (const [type, form] of formats) {
        const v = value(r, form, s, offsetSize, diag);
        if (type === DW_LNCT_path && typeof v === 'string') row.path = v;
        if (type === DW_LNCT_directory_index && typeof v === 'number') row.dir = v;
      }
      rows.push(row);
    }
    return rows;
  };
  const dirs = table().map((d) => d.path ?? '');
  // directory 0 is the unit's own: paths stay relative to it
  return table().map((f) => join(f.dir ? dirs[f.dir] : undefined, f.path ?? ''));
}

function value(r: Reader, form: number, s: LineSections, offsetSize: number, diag: ElfDiagnostics): string | number | undefined {
  switch (form) {
    case DW_FORM_string:
      return r.cstring();
    case DW_FORM_line_strp:
      return stringAt(s.lineStr, offsetSize === 8 ? r.u64() : r.u32(), '.debug_line_str', diag);
    case DW_FORM_strp:
      return stringAt(s.str, offsetSize === 8 ? r.u64() : r.u32(), '.debug_str', diag);
    case DW_FORM_udata:
      return r.uleb();
    case DW_FORM_data1:
      return r.u8();
    case DW_FORM_data2:
      return r.u16();
    case DW_FORM_data4:
      return r.u32();
    case DW_FORM_data8:
      return r.u64();
    case DW_FORM_data16:
      r.skip(16);
      return undefined;
    case DW_FORM_block:
      r.skip(r.uleb());
      return undefined;
    default:
      throw diag.malformed(`form 0x${form.toString(16)} in a line program header is not one DWARF 5 allows there`, '.debug_line', r.at);
  }
}
