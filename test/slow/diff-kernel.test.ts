import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/index.js';
import type { CallSite, DiffResult, FunctionDiff, SpecialSectionEntries } from '../../src/diff/types.js';
import { R_X86_64_PC32, R_X86_64_PLT32, STT_SECTION } from '../../src/elf/constants.js';
import type { ElfFile, ElfSection } from '../../src/elf/model.js';
import { parseElf } from '../../src/elf/parse.js';
import { compileSource, objectFor, unitRecords, workspaceCompiler, type UnitCompiler } from '../../src/kbuild/compile.js';
import { mapLimit } from '../../src/util/concurrency.js';
import { functionSymbol, relasOf, targetName } from '../helpers/object-symbols.js';
import { defaultWorkspace } from '../helpers/workspace.js';

// The object differ on real kernel objects: every object is compiled with
// kbuild's own command for it (objtool included), outside the prepared tree,
// the original and then a modified text of the source. And a dozen real
// translation units compiled twice from unchanged sources: no change.

/** Translation units compiled twice from unchanged sources (binfmt_misc is a module). */
const UNCHANGED = [
  'fs/proc/cmdline.o',
  'fs/proc/meminfo.o',
  'fs/proc/base.o',
  'fs/proc/array.o',
  'fs/proc/stat.o',
  'fs/proc/uptime.o',
  'fs/proc/version.o',
  'fs/namei.o',
  'kernel/sys.o',
  'mm/filemap.o',
  'fs/binfmt_misc.o',
  'net/ipv4/tcp.o',
];
const MODULE_OBJECTS = new Set(['fs/binfmt_misc.o']);
/** Further originals the modified-source cases need. */
const ORIGINALS = ['fs/proc/generic.o', 'fs/proc/proc_sysctl.o', 'fs/readdir.o'];

let cc: UnitCompiler;
let tmp: string;

const sourceOf = (objRel: string): string => objRel.replace(/\.o$/, '.c');
const firstCopy = (objRel: string) => path.join(tmp, 'first', 'obj', objRel);
const load = (file: string): ElfFile => parseElf(readFileSync(file), { file });
/** Compiles every object from the tree's sources under `dir`, two at a time. */
const compileAll = (objects: string[], dir: string) => mapLimit(objects, 2, (o) => compileSource(cc, sourceOf(o), dir));

beforeAll(async () => {
  cc = workspaceCompiler(await defaultWorkspace());
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rb-diff-kernel-'));
  // every unit's kbuild record in one dry run
  await unitRecords(cc, [...UNCHANGED, ...ORIGINALS]);
  await compileAll([...UNCHANGED, ...ORIGINALS], path.join(tmp, 'first'));
}, 15 * 60_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Replaces exactly one occurrence of `from` (the first after `after`, when given). */
function edit(text: string, from: string, to: string, after = ''): string {
  const start = after ? text.indexOf(after) : 0;
  if (start < 0) throw new Error(`marker not found: ${after}`);
  const at = text.indexOf(from, start);
  if (at < 0) throw new Error(`text not found: ${from}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

interface Variant {
  orig: ElfFile;
  patched: ElfFile;
  r: DiffResult;
}

let variants = 0;
/** The original object and one compiled from `change(source)`; the source is restored afterwards. */
async function variant(sourceRel: string, change: (text: string) => string, module = false): Promise<Variant> {
  const objRel = objectFor(sourceRel);
  const pristine = readFileSync(path.join(cc.tree, sourceRel), 'utf8');
  const text = change(pristine);
  expect(text).not.toBe(pristine);
  const out = await compileSource(cc, sourceRel, path.join(tmp, 'variants', String(variants++)), text);
  const orig = load(firstCopy(objRel));
  const patched = load(out);
  return { orig, patched, r: diffObjects(orig, patched, module ? { module: true } : {}) };
}

// ---- oracles over the objects themselves ----------------------------------------------

/** Calls and tail calls (e8/e9 with a relocated target) of a function. */
function callSites(file: ElfFile, name: string): CallSite[] {
  const sym = functionSymbol(file, name);
  const sec = sym.section as ElfSection;
  return relasOf(file, sec)
    .filter((r) => (r.type === R_X86_64_PLT32 || r.type === R_X86_64_PC32) && r.offset >= 1n && r.offset < sym.value + BigInt(sym.size))
    .filter((r) => [0xe8, 0xe9].includes(sec.data[Number(r.offset) - 1] as number))
    .map((r) => ({ callee: targetName(file, r), offset: Number(r.offset) - 1 - Number(sym.value) }))
    .filter((c) => c.callee !== '__fentry__');
}

/** Entry sizes on 6.1 x86-64 (bug_entry, exception_table_entry, jump_entry, mcount, orc ip, return site). */
const ENTRY_SIZES: Record<string, number> = { __bug_table: 12, __ex_table: 12, __jump_table: 16, __mcount_loc: 8, '.orc_unwind_ip': 4, '.return_sites': 4 };

/** The entries of those sections whose first field points into the function. */
function specialEntriesOf(file: ElfFile, name: string): SpecialSectionEntries[] {
  const sym = functionSymbol(file, name);
  const out: SpecialSectionEntries[] = [];
  for (const [section, size] of Object.entries(ENTRY_SIZES)) {
    const sec = file.sections.find((s) => s.name === section);
    if (!sec) continue;
    const entries = relasOf(file, sec)
      .filter((r) => Number(r.offset) % size === 0 && r.symbol.section === sym.section)
      .filter((r) => {
        const target = (r.symbol.type === STT_SECTION ? 0n : r.symbol.value) + r.addend;
        return target >= sym.value && target < sym.value + BigInt(sym.size);
      })
      .map((r) => ({ offset: Number(r.offset), size }))
      .sort((a, b) => a.offset - b.offset);
    if (entries.length) out.push({ section, entrySize: size, entries });
  }
  return out;
}

const known = (groups: SpecialSectionEntries[] | undefined): SpecialSectionEntries[] =>
  (groups ?? []).filter((g) => g.section in ENTRY_SIZES).sort((a, b) => Object.keys(ENTRY_SIZES).indexOf(a.section) - Object.keys(ENTRY_SIZES).indexOf(b.section));

function fn(r: DiffResult, name: string): FunctionDiff {
  const found = r.functions.filter((f) => f.name === name || f.aliases?.includes(name));
  expect(found, name).toHaveLength(1);
  return found[0] as FunctionDiff;
}

/** The functions reported as anything but `same`, by name and status. */
const different = (r: DiffResult): Record<string, string> => Object.fromEntries(r.functions.filter((f) => f.status !== 'same').map((f) => [f.name, f.status]));
const codes = (r: DiffResult): string[] => r.refusals.map((x) => `${x.code} ${x.symbol}`).sort();
const summary = (r: DiffResult): string => JSON.stringify({ verdict: r.verdict, refusals: r.refusals, changed: r.functions.filter((f) => f.status !== 'same') }, null, 1);

// ---- tests -------------------------------------------------------------------------------

describe('the differ on real kernel objects', () => {
  it('a dozen translation units compiled twice from unchanged sources (in other directories): no change', async () => {
    const again = await compileAll(UNCHANGED, path.join(tmp, 'again'));
    const failures: string[] = [];
    for (const [n, obj] of UNCHANGED.entries()) {
      const orig = load(firstCopy(obj));
      const again2 = load(again[n] as string);
      const r = diffObjects(orig, again2, MODULE_OBJECTS.has(obj) ? { module: true } : {});
      expect(r.functions.length, obj).toBeGreaterThan(0);
      if (r.verdict !== 'no-change' || r.refusals.length || Object.keys(different(r)).length) failures.push(`${obj}: ${summary(r)}`);
    }
    expect(failures).toEqual([]);
  });

  it('fs/proc/cmdline.c: a one-line change in cmdline_proc_show is patchable', async () => {
    const { orig, patched, r } = await variant('fs/proc/cmdline.c', (t) => edit(t, "seq_putc(m, '\\n');", 'seq_write(m, "\\n", 1);'));
    expect(r.verdict, summary(r)).toBe('patchable');
    expect(different(r)).toEqual({ cmdline_proc_show: 'changed' });
    const f = fn(r, 'cmdline_proc_show');
    expect(f).toMatchObject({ include: 'patch', hasFentry: true, local: true });
    expect(f.removedCallees).toEqual(callSites(orig, 'cmdline_proc_show').filter((c) => c.callee === 'seq_putc'));
    expect(f.newCallees).toEqual(callSites(patched, 'cmdline_proc_show').filter((c) => c.callee === 'seq_write'));
    const want = specialEntriesOf(patched, 'cmdline_proc_show');
    expect(want.map((g) => g.section)).toEqual(expect.arrayContaining(['__mcount_loc', '.orc_unwind_ip']));
    expect(known(r.specialEntries.cmdline_proc_show)).toEqual(want);
  });

  it('kernel/sys.c: a changed data initializer (overflowuid) is refused', async () => {
    const { r } = await variant('kernel/sys.c', (t) => edit(t, 'int overflowuid = DEFAULT_OVERFLOWUID;', 'int overflowuid = 65533;'));
    expect(r.verdict, summary(r)).toBe('unpatchable');
    expect(codes(r)).toEqual(['DATA_CHANGED overflowuid']);
    expect(different(r)).toEqual({});
  });

  it('fs/proc/cmdline.c: a changed __init function is refused', async () => {
    const { r } = await variant('fs/proc/cmdline.c', (t) => edit(t, 'proc_create_single("cmdline", 0,', 'proc_create_single("cmdline", 0444,'));
    expect(r.verdict, summary(r)).toBe('unpatchable');
    expect(codes(r)).toEqual(['INIT_CHANGED proc_cmdline_init']);
    expect(different(r)).toEqual({ proc_cmdline_init: 'changed' });
  });

  it('fs/proc/cmdline.c: a comment-only change (lines move) is no change', async () => {
    const { r } = await variant('fs/proc/cmdline.c', (t) => edit(t, 'static int cmdline_proc_show', '/*\n * Shows the command line the kernel was booted with.\n */\nstatic int cmdline_proc_show'));
    expect(r.verdict, summary(r)).toBe('no-change');
    expect(different(r)).toEqual({});
  });

  it('fs/proc/generic.c: a blank line that only shifts WARN_ON lines is no change', async () => {
    const { orig, patched, r } = await variant('fs/proc/generic.c', (t) => edit(t, '#include', '\n#include'));
    const bugTable = (f: ElfFile) => Buffer.from(f.sections.find((s) => s.name === '__bug_table')?.data ?? []);
    expect(bugTable(orig).length).toBeGreaterThan(0);
    expect(bugTable(orig).equals(bugTable(patched)), 'the recorded lines moved').toBe(false);
    expect(r.verdict, summary(r)).toBe('no-change');
    expect(r.refusals).toEqual([]);
    expect(different(r)).toEqual({});
  });

  it('fs/binfmt_misc.c (a module): a changed function is patchable with module: true', async () => {
    const { r } = await variant('fs/binfmt_misc.c', (t) => edit(t, '"enabled\\n"', '"enabled (patched)\\n"'), true);
    expect(r.verdict, summary(r)).toBe('patchable');
    expect(r.refusals).toEqual([]);
    expect(fn(r, 'bm_status_read')).toMatchObject({ status: 'changed', include: 'patch' });
    expect(Object.keys(different(r)).filter((n) => !n.startsWith('bm_status_read'))).toEqual([]);
  });

  it('kernel/sys.c: a SYSCALL_DEFINE2 body change is patched through __x64_sys_/__ia32_sys_ (the body is notrace)', async () => {
    const { orig, r } = await variant('kernel/sys.c', (t) => edit(t, 'return -EINVAL;', 'return -EPERM;', 'SYSCALL_DEFINE2(getpriority'));
    expect(callSites(orig, '__x64_sys_getpriority').map((c) => c.callee)).toEqual(['__do_sys_getpriority']);
    expect(r.verdict, summary(r)).toBe('patchable');
    expect(r.refusals).toEqual([]);
    expect(different(r)).toEqual({ __do_sys_getpriority: 'changed', __x64_sys_getpriority: 'changed', __ia32_sys_getpriority: 'changed' });
    expect(fn(r, '__do_sys_getpriority')).toMatchObject({ include: 'carry', hasFentry: false, local: true });
    for (const stub of ['__x64_sys_getpriority', '__ia32_sys_getpriority']) {
      expect(fn(r, stub), stub).toMatchObject({ include: 'patch', hasFentry: true, because: expect.any(String) as string });
    }
  });

  it('kernel/sys.c: a SYSCALL_DEFINE0 body change (__do_sys_ shares the stubs’ code) is patchable', async () => {
    const { r } = await variant('kernel/sys.c', (t) => edit(t, 'return pid;', 'return pid < 0 ? 0 : pid;', 'SYSCALL_DEFINE0(getppid)'));
    expect(r.verdict, summary(r)).toBe('patchable');
    expect(r.refusals).toEqual([]);
    for (const stub of ['__x64_sys_getppid', '__ia32_sys_getppid']) expect(fn(r, stub), stub).toMatchObject({ status: 'changed', include: 'patch', hasFentry: true });
    const names = r.functions.filter((f) => f.status !== 'same').flatMap((f) => [f.name, ...(f.aliases ?? [])]);
    expect(names.sort()).toEqual(['__do_sys_getppid', '__ia32_sys_getppid', '__x64_sys_getppid']);
  });

  it('fs/proc/proc_sysctl.c: a changed function with __jump_table and __bug_table entries lists them', async () => {
    const { patched, r } = await variant('fs/proc/proc_sysctl.c', (t) => edit(t, 'error = -EPERM;', 'error = -EACCES;', 'static ssize_t proc_sys_call_handler'));
    expect(r.verdict, summary(r)).toBe('patchable');
    expect(different(r)).toEqual({ proc_sys_call_handler: 'changed' });
    const want = specialEntriesOf(patched, 'proc_sys_call_handler');
    expect(want.map((g) => g.section)).toEqual(expect.arrayContaining(['__jump_table', '__bug_table']));
    expect(known(r.specialEntries.proc_sys_call_handler)).toEqual(want);
  });

  it('fs/readdir.c: a changed function with __ex_table entries lists them', async () => {
    const { patched, r } = await variant('fs/readdir.c', (t) => edit(t, 'buf->error = -EINVAL;', 'buf->error = -EOVERFLOW;', 'static bool filldir64('));
    expect(r.verdict, summary(r)).toBe('patchable');
    expect(different(r)).toEqual({ filldir64: 'changed' });
    const want = specialEntriesOf(patched, 'filldir64');
    expect(want.find((g) => g.section === '__ex_table')?.entries.length).toBeGreaterThan(3);
    expect(known(r.specialEntries.filldir64)).toEqual(want);
  });
});
