import { decodeInstructions } from '../../src/arch/x86_64/instructions.js';
import { renderRelocations, renderSections, renderSymbols } from '../../src/cli/actions/elf.js';
import { isRebootlessError } from '../../src/errors/index.js';
import { SHT_GROUP, SHT_NOBITS, SHT_NOTE, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX } from '../../src/elf/constants.js';
import { findSymtab, removeSection } from '../../src/elf/edit.js';
import { buildIndex } from '../../src/elf/lookup.js';
import { modinfoOf } from '../../src/elf/modinfo.js';
import { allNotes } from '../../src/elf/notes.js';
import { parseElf } from '../../src/elf/parse.js';
import { isTextSection } from '../../src/elf/predicates.js';
import { serializeElf } from '../../src/elf/serialize.js';
import { readElfPartial } from '../../src/elf/symtab.js';

// Mutation fuzzing of the ELF layer: real objects with bytes flipped, header
// fields and table entries set to boundary values, files truncated. Every
// input must end in success or a RebootlessError with an ELF code; anything
// else (a TypeError, a RangeError, a hang, a runaway allocation) is a finding.

export const ELF_CODES = new Set(['ELF_NOT_ELF', 'ELF_UNSUPPORTED', 'ELF_TRUNCATED', 'ELF_OUT_OF_RANGE', 'ELF_OVERLAP', 'ELF_TOO_LARGE', 'ELF_MALFORMED', 'ELF_MODEL_INVALID']);

/** mulberry32: small, fast, reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Layout {
  shoff: number;
  sections: { offset: number; size: number; type: number; entsize: number }[];
}

function layoutOf(bytes: Uint8Array): Layout {
  const elf = parseElf(bytes);
  return {
    shoff: elf.origin?.shoff ?? 0,
    sections: elf.sections.map((s) => ({ offset: s.origin?.offset ?? 0, size: s.type === SHT_NOBITS ? 0 : s.size, type: s.type, entsize: s.entsize })),
  };
}

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

export interface FuzzFinding {
  seed: string;
  caseNo: number;
  mutation: string;
  error: string;
}

export interface FuzzReport {
  cases: number;
  parsed: number;
  written: number;
  codes: Record<string, number>;
  findings: FuzzFinding[];
  slowestMs: number;
}

const HEADER_FIELDS: [number, number][] = [[4, 1], [5, 1], [6, 1], [7, 1], [16, 2], [18, 2], [20, 4], [24, 8], [32, 8], [40, 8], [48, 4], [52, 2], [54, 2], [56, 2], [58, 2], [60, 2], [62, 2]];
const SHDR_FIELDS: [number, number][] = [[0, 4], [4, 4], [8, 8], [16, 8], [24, 8], [32, 8], [40, 4], [44, 4], [48, 8], [56, 8]];
const SYM_FIELDS: [number, number][] = [[0, 4], [4, 1], [5, 1], [6, 2], [8, 8], [16, 8]];
const RELA_FIELDS: [number, number][] = [[0, 8], [8, 4], [12, 4], [16, 8]];
const TYPES = [SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_REL, SHT_NOBITS, SHT_NOTE, SHT_GROUP, SHT_SYMTAB_SHNDX, 11, 0, 1, 0x6fffffff];

function interesting(r: () => number, fileLength: number): bigint {
  const list = [0n, 1n, 2n, 3n, 4n, 7n, 8n, 16n, 24n, 63n, 64n, 0x7fn, 0x80n, 0xffn, 0x100n, 0xff00n, 0xff20n, 0xfff1n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
  const k = r();
  if (k < 0.6) return list[Math.floor(r() * list.length)] as bigint;
  if (k < 0.8) return BigInt(Math.max(0, fileLength + Math.floor(r() * 5) - 2));
  return BigInt(Math.floor(r() * Math.max(1, fileLength * 2)));
}

function setField(b: Uint8Array, at: number, width: number, value: bigint): void {
  if (at < 0 || at + width > b.length) return;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const masked = BigInt.asUintN(width * 8, value);
  if (width === 1) v.setUint8(at, Number(masked));
  else if (width === 2) v.setUint16(at, Number(masked), true);
  else if (width === 4) v.setUint32(at, Number(masked), true);
  else v.setBigUint64(at, masked, true);
}

/** One random mutation of `bytes`; returns the mutant and a description that reproduces it. */
export function mutate(bytes: Uint8Array, layout: Layout, r: () => number): { data: Uint8Array; what: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const len = bytes.length;
  const sec = (pred: (s: Layout['sections'][number]) => boolean) => layout.sections.map((s, i) => ({ ...s, i })).filter((s) => s.i > 0 && pred(s));
  const op = Math.floor(r() * 11);
  let b = new Uint8Array(bytes);
  let what: string;
  switch (op) {
    case 0: {
      const n = 1 + Math.floor(r() * 4);
      const at: number[] = [];
      for (let k = 0; k < n; k++) {
        const i = Math.floor(r() * len);
        b[i] = (b[i] as number) ^ (1 + Math.floor(r() * 255));
        at.push(i);
      }
      what = `flip bytes ${at.join(',')}`;
      break;
    }
    case 1: {
      const [off, w] = pick(HEADER_FIELDS);
      const v = interesting(r, len);
      setField(b, off, w, v);
      what = `ELF header @${off}/${w} = ${v}`;
      break;
    }
    case 2:
    case 3: {
      const i = Math.floor(r() * layout.sections.length);
      const [off, w] = pick(SHDR_FIELDS);
      const v = off === 4 && r() < 0.5 ? BigInt(pick(TYPES)) : interesting(r, len);
      setField(b, layout.shoff + i * 64 + off, w, v);
      what = `section ${i} field @${off}/${w} = ${v}`;
      break;
    }
    case 4: {
      const tables = sec((s) => s.type === SHT_SYMTAB && s.size >= 24);
      if (tables.length === 0) return mutate(bytes, layout, r);
      const t = pick(tables);
      const j = Math.floor(r() * (t.size / 24));
      const [off, w] = pick(SYM_FIELDS);
      const v = off === 6 && r() < 0.5 ? BigInt(pick([0xffff, 0xfff1, 0xfff2, 0xff20, 0xff00, 0xfeff, layout.sections.length, layout.sections.length - 1])) : interesting(r, len);
      setField(b, t.offset + j * 24 + off, w, v);
      what = `symbol ${j} field @${off}/${w} = ${v}`;
      break;
    }
    case 5: {
      const tables = sec((s) => (s.type === SHT_RELA || s.type === SHT_REL) && s.size >= 24);
      if (tables.length === 0) return mutate(bytes, layout, r);
      const t = pick(tables);
      const j = Math.floor(r() * (t.size / 24));
      const [off, w] = pick(RELA_FIELDS);
      const v = interesting(r, len);
      setField(b, t.offset + j * 24 + off, w, v);
      what = `relocation ${j} of section ${t.i} field @${off}/${w} = ${v}`;
      break;
    }
    case 6: {
      const n = r() < 0.3 ? Math.floor(r() * 80) : Math.floor(r() * len);
      b = b.slice(0, n);
      what = `truncate to ${n}`;
      break;
    }
    case 7: {
      const groups = sec((s) => (s.type === SHT_GROUP || s.type === SHT_SYMTAB_SHNDX) && s.size >= 4);
      if (groups.length === 0) return mutate(bytes, layout, r);
      const g = pick(groups);
      const j = Math.floor(r() * (g.size / 4));
      const v = interesting(r, len);
      setField(b, g.offset + j * 4, 4, v);
      what = `word ${j} of section ${g.i} = ${v}`;
      break;
    }
    case 8: {
      const i = 1 + Math.floor(r() * (layout.sections.length - 1));
      const j = 1 + Math.floor(r() * (layout.sections.length - 1));
      b.copyWithin(layout.shoff + j * 64, layout.shoff + i * 64, layout.shoff + i * 64 + 64);
      what = `copy section header ${i} over ${j}`;
      break;
    }
    case 9: {
      const tables = sec((s) => s.type === SHT_STRTAB && s.size > 0);
      if (tables.length === 0) return mutate(bytes, layout, r);
      const t = pick(tables);
      const at = t.offset + Math.floor(r() * t.size);
      b[at] = r() < 0.5 ? 0 : 0x41;
      what = `string table ${t.i} byte ${at} = ${b[at]}`;
      break;
    }
    default: {
      const extra = Math.floor(r() * 4096);
      const grown = new Uint8Array(len + extra);
      grown.set(b);
      for (let k = len; k < grown.length; k++) grown[k] = Math.floor(r() * 256);
      const i = 1 + Math.floor(r() * (layout.sections.length - 1));
      setField(grown, layout.shoff + i * 64 + 24, 8, BigInt(len + Math.floor(r() * extra)));
      setField(grown, layout.shoff + i * 64 + 32, 8, BigInt(Math.floor(r() * extra)));
      b = grown;
      what = `append ${extra} bytes, section ${i} points into them`;
    }
  }
  // sometimes stack a second mutation
  if (r() < 0.15 && b.length > 64) {
    const again = mutate(b, layout, r);
    return { data: again.data, what: `${what}; ${again.what}` };
  }
  return { data: b, what };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** Everything a caller may do with a parsed file; throws what the ELF layer throws. */
function exercise(data: Uint8Array, deep: boolean, r: () => number): 'written' | 'parsed' {
  const elf = parseElf(data, { file: 'fuzz.o' });
  const idx = buildIndex(elf);
  for (const s of elf.sections.slice(0, 8)) {
    idx.findSymbolContaining(s, BigInt(Math.floor(r() * 256)));
    idx.findRelasBySection(s);
    idx.findRelaSectionFor(s);
  }
  renderSections(elf);
  renderSymbols(elf);
  renderRelocations(elf);
  const optional = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      if (!isRebootlessError(e) || !ELF_CODES.has(e.code)) throw e;
    }
  };
  optional(() => modinfoOf(elf));
  optional(() => allNotes(elf));
  if (deep) {
    for (const s of elf.sections) if (isTextSection(s) && s.type !== SHT_NOBITS && s.size < 4096) decodeInstructions(s.data);
  }
  const out = serializeElf(elf);
  // What the writer wrote must read back, and write again to the same bytes.
  const back = parseElf(out, { file: 'fuzz-written.o' });
  const again = serializeElf(back);
  if (!sameBytes(again, out)) throw new Error('writing the written file again changed it');
  const fresh = serializeElf(elf, { freshLayout: true });
  parseElf(fresh, { file: 'fuzz-fresh.o' });
  if (deep) {
    const victim = elf.sections.find((s, i) => i > 0 && s !== elf.shstrtab && s !== findSymtab(elf) && s !== findSymtab(elf)?.link);
    if (victim) {
      removeSection(elf, victim);
      parseElf(serializeElf(elf), { file: 'fuzz-edited.o' });
    }
  }
  return 'written';
}

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Per-case time above which the case counts as a hang. */
  hangMs?: number;
  /** Growth of the resident set above which the run counts as a runaway allocation. */
  maxRssGrowth?: number;
}

export async function fuzzElf(seeds: readonly Seed[], options: FuzzOptions): Promise<FuzzReport> {
  const r = rng(options.seed);
  const layouts = seeds.map((s) => layoutOf(s.bytes));
  const report: FuzzReport = { cases: 0, parsed: 0, written: 0, codes: {}, findings: [], slowestMs: 0 };
  const hangMs = options.hangMs ?? 2000;
  const rss0 = process.memoryUsage().rss;
  const maxGrowth = options.maxRssGrowth ?? 1.5 * 1024 ** 3;
  const record = (seed: string, caseNo: number, mutation: string, error: string): void => {
    if (report.findings.length < 20) report.findings.push({ seed, caseNo, mutation, error });
  };
  for (let caseNo = 0; caseNo < options.cases; caseNo++) {
    const k = caseNo % seeds.length;
    const seed = seeds[k] as Seed;
    const { data, what } = mutate(seed.bytes, layouts[k] as Layout, r);
    const t0 = performance.now();
    const deep = caseNo % 10 === 0;
    try {
      exercise(data, deep, r);
      report.written++;
      report.parsed++;
    } catch (e) {
      if (isRebootlessError(e) && ELF_CODES.has(e.code)) report.codes[e.code] = (report.codes[e.code] ?? 0) + 1;
      else record(seed.name, caseNo, what, e instanceof Error ? (e.stack ?? e.message) : String(e));
    }
    // The partial reader must behave the same on the same bytes.
    if (caseNo % 4 === 0) {
      try {
        await readElfPartial((o, l) => Promise.resolve(data.slice(o, o + l)), { file: 'fuzz.o', size: data.length, include: () => r() < 0.5 });
      } catch (e) {
        if (!(isRebootlessError(e) && ELF_CODES.has(e.code))) record(seed.name, caseNo, `${what} (partial reader)`, e instanceof Error ? (e.stack ?? e.message) : String(e));
      }
    }
    const ms = performance.now() - t0;
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (ms > hangMs) record(seed.name, caseNo, what, `took ${Math.round(ms)} ms (hang?)`);
    if (caseNo % 500 === 0 && process.memoryUsage().rss - rss0 > maxGrowth) record(seed.name, caseNo, what, `resident set grew by ${process.memoryUsage().rss - rss0} bytes`);
    report.cases++;
  }
  return report;
}
