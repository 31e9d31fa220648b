import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { SHT_SYMTAB_SHNDX, SHN_XINDEX } from '../../src/elf/constants.js';
import { addRelaSection, addSection, addSymbol, findSymtab } from '../../src/elf/edit.js';
import { parseElf } from '../../src/elf/parse.js';
import { serializeElf } from '../../src/elf/serialize.js';
import { REPO } from './run-cli.js';

// C and assembler fixtures compiled at test time, and the binutils oracles
// (readelf, objdump, ld -r) the ELF tests compare against.

/** The flags kbuild gives every kernel object that matter to the ELF layer. */
export const KERNEL_CFLAGS = ['-O2', '-ffunction-sections', '-fdata-sections', '-pg', '-mfentry', '-mrecord-mcount', '-fno-pic', '-mcmodel=kernel', '-fno-asynchronous-unwind-tables'];

export const FIXTURES = path.join(REPO, 'test/fixtures/elf');

let workDir: string | undefined;
/** A temporary directory for this test process. */
export function elfWorkDir(): string {
  workDir ??= mkdtempSync(path.join(os.tmpdir(), 'rb-elf-'));
  return workDir;
}
// Each test file imports this module afresh (vitest isolates files), so this removes that file's
// directory; outside a test run (a script importing the helpers) there is no suite to hook into.
try {
  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });
} catch {
  // not under vitest
}

const compiled = new Map<string, string>();

/** Compiles test/fixtures/elf/<name> (a .c or .S file) with kernel-like flags; returns the object's path. */
export function compileFixture(name: string, extraFlags: string[] = []): string {
  const key = [name, ...extraFlags].join(' ');
  const cached = compiled.get(key);
  if (cached) return cached;
  const out = path.join(elfWorkDir(), `${path.basename(name).replace(/\.[cS]$/, '')}${compiled.size}.o`);
  execFileSync('gcc', ['-c', ...KERNEL_CFLAGS, ...extraFlags, path.join(FIXTURES, name), '-o', out], { stdio: 'pipe' });
  compiled.set(key, out);
  return out;
}

/**
 * An object with more than SHN_LORESERVE (0xff00) sections, so that e_shnum,
 * e_shstrndx and symbol section indices use their extended forms
 * (SHT_SYMTAB_SHNDX). Generated as assembler: one function per section,
 * each calling the next (so every function also has a relocation section).
 */
export function manySectionsObject(functions = 33000): string {
  const out = path.join(elfWorkDir(), `many-${functions}.o`);
  if (compiled.has(out)) return out;
  const lines: string[] = [];
  for (let i = 0; i < functions; i++) {
    lines.push(`.section .text.f${i},"ax",@progbits`, `.globl f${i}`, `.type f${i},@function`, `f${i}: call f${(i + 1) % functions}`, 'ret', `.size f${i}, .-f${i}`);
  }
  const src = path.join(elfWorkDir(), `many-${functions}.s`);
  writeFileSync(src, lines.join('\n') + '\n');
  execFileSync('gcc', ['-c', src, '-o', out], { stdio: 'pipe' });
  compiled.set(out, out);
  return out;
}

/**
 * The kernel-like object with a SHT_SYMTAB_SHNDX table and every defined
 * symbol's section given through it (st_shndx = SHN_XINDEX): legal ELF that
 * exercises the extended-index path without 65280 sections.
 */
export function xindexObject(): string {
  const out = path.join(elfWorkDir(), 'xindex.o');
  if (compiled.has(out)) return out;
  const file = parseElf(readFileSync(compileFixture('kernel-like.c')));
  const symtab = findSymtab(file);
  if (!symtab) throw new Error('fixture has no symbol table');
  const shndx = addSection(file, { name: '.symtab_shndx', type: SHT_SYMTAB_SHNDX, addralign: 4, entsize: 4 }, { after: symtab });
  shndx.link = symtab;
  const bytes = serializeElf(file);
  const written = parseElf(bytes);
  const sym = written.sections.find((s) => s.name === '.symtab');
  const table = written.sections.find((s) => s.name === '.symtab_shndx');
  if (!sym?.origin || !table?.origin || !sym.symbols) throw new Error('no tables');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  sym.symbols.forEach((s, i) => {
    if (!s.section) return;
    v.setUint16((sym.origin?.offset ?? 0) + i * 24 + 6, SHN_XINDEX, true);
    v.setUint32((table.origin?.offset ?? 0) + i * 4, s.section.index, true);
  });
  writeFileSync(out, bytes);
  compiled.set(out, out);
  return out;
}

export function readelf(args: string[], file: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync('readelf', [...args, file], { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Collapses runs of blanks, drops trailing blanks and blank lines: readelf pads columns. */
export function normalizeWhitespace(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').trim())
    .filter((l) => l !== '')
    .join('\n');
}

/** `ld -r` of one object; returns ld's stderr (empty when it is happy). */
export function linkRelocatable(file: string): { status: number | null; stderr: string } {
  const r = spawnSync('ld', ['-r', '-o', `${file}.ld-r.o`, file], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** Instruction start offsets per text section, from objdump -d. */
export function objdumpBoundaries(file: string): Map<string, number[]> {
  const text = execFileSync('objdump', ['-d', '--insn-width=16', file], { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  const out = new Map<string, number[]>();
  let current: number[] | undefined;
  for (const line of text.split('\n')) {
    const section = /^Disassembly of section (.+):$/.exec(line);
    if (section) {
      current = [];
      out.set(section[1] as string, current);
      continue;
    }
    const insn = /^\s*([0-9a-f]+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*(?:\t|$)/.exec(line);
    if (insn && current) current.push(parseInt(insn[1] as string, 16));
  }
  return out;
}

/**
 * readelf's view of an object with file offsets masked, for comparing a file
 * the writer laid out afresh with the one it came from.
 */
export function readelfLayoutFree(file: string, args = ['-W', '-h', '-S', '-s', '-r', '-g', '-n']): string {
  const { stdout } = readelf(args, file);
  return normalizeWhitespace(
    stdout
      .replace(/ [0-9a-f]{16} [0-9a-f]{6,} /g, (m) => `${m.slice(0, 18)}OFF `)
      .replace(/offset 0x[0-9a-f]+/g, 'offset OFF')
      .replace(/Start of section headers:.*/g, '')
      .replace(/Size of section headers:.*/g, ''),
  );
}

/**
 * The kernel-like object with one of every section type, section flag,
 * symbol type, binding, visibility, reserved section index and relocation
 * type rebootless names, for comparing `elf dump` with readelf on all of them.
 */
export function zooObject(): string {
  const out = path.join(elfWorkDir(), 'zoo.o');
  if (compiled.has(out)) return out;
  const file = parseElf(readFileSync(compileFixture('kernel-like.c')));
  const symtab = findSymtab(file);
  const symbols = symtab?.symbols ?? [];
  const text = file.sections.find((s) => s.name === '.text.helper');
  if (!text || !symtab) throw new Error('fixture changed');
  // RELR is left out: readelf treats it as a relocation section of its own kind.
  const types = [5, 6, 10, 14, 15, 16, 0x60000000, 0x6ffffff0, 0x6ffffff5, 0x6ffffff6, 0x6ffffff7, 0x6ffffffa, 0x6ffffffd, 0x6ffffffe, 0x6fffffff, 0x6fff4c03, 0x70000000, 0x70000001, 0x7000001e, 0x7fffffff, 0x80000000, 0x12345];
  for (const t of types) addSection(file, { name: `.type_${t.toString(16)}`, type: t, data: new Uint8Array(8), addralign: 8 });
  const flags = [0x100000n, 0x200000n, 0x80000000n, 0x10000000n, 0x800n, 0x400n, 0x100n, 0x80n, 0x40000000n, 0x1000000n, 0x8000n, 0x100000000n, 0x90108003n, 0x100008001n, 0xffffffffffffffffn, 0x60200000n];
  for (const f of flags) addSection(file, { name: `.flags_${f.toString(16)}`, type: 1, flags: f, data: new Uint8Array(4) });
  addSection(file, { name: '.big_bss', type: 8, size: 0x123456789ab, addralign: 4096, entsize: 0x1234, addr: 0xffffffff81000000n });
  const rela = addRelaSection(file, file.sections.find((s) => s.name === '.flags_100000') as NonNullable<(typeof file.sections)[number]>);
  for (let t = 0; t < 48; t++) rela.relas?.push({ offset: BigInt(t), type: t, symbol: symbols[t % 3] as NonNullable<(typeof symbols)[number]>, addend: BigInt(t - 24) });
  rela.relas?.push({ offset: 0xffffffffffffffffn, type: 0x12345, symbol: symbols[19] as NonNullable<(typeof symbols)[number]>, addend: -0x8000000000000000n });
  [0xff20, 0xfff1, 0xfff2, 0xff00, 0xff1f, 0xff3f, 0xff40, 0xfffe].forEach((shndx, i) =>
    addSymbol(file, { name: `reserved_${shndx.toString(16)}`, shndx, bind: 1, value: 123456789n * BigInt(i), size: [0, 99999, 100000, 123456789, 2 ** 40][i % 5] as number }),
  );
  for (let t = 0; t < 16; t++) addSymbol(file, { name: `type_${t}`, type: t, bind: 1, section: text });
  for (let b = 0; b < 16; b++) addSymbol(file, { name: `bind_${b}`, bind: b, section: text });
  for (let o = 0; o < 8; o++) addSymbol(file, { name: `other_${o}`, other: o * 9, bind: 1, section: text });
  addSymbol(file, { name: '', type: 2, bind: 1, section: text });
  writeFileSync(out, serializeElf(file));
  compiled.set(out, out);
  return out;
}
