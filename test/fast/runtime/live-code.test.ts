import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ElfSection, parseElf, serializeElf, SHT_PROGBITS } from '../../../src/elf/index.js';
import type { LiveHost } from '../../../src/runtime/host.js';
import { checkLiveCode } from '../../../src/runtime/live-code.js';
import { readModuleFile } from '../../../src/runtime/module-file.js';
import { liveCodeOutlook } from '../../../src/runtime/predict.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';
import { rejection } from '../../helpers/errors.js';

// apply's check of the running code, against a fake /proc: kallsyms with
// addresses and a kcore (an ELF core file with one PT_LOAD segment) holding
// the "running" bytes. The module carries the release's bytes in
// .rebootless.live_code as build writes them.

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const FILE_ADDR = 0xffffffff81000000n;
const LIVE_ADDR = 0xffffffff9a000000n; // KASLR moved the kernel by 0x19000000

/** 32 bytes of "release" code: call __fentry__, an absolute address field at +0x8, a ret. */
function releaseCode(): Uint8Array {
  const b = new Uint8Array(32).fill(0x90);
  b.set([0xe8, 0x11, 0x22, 0x33, 0x44], 0); // call __fentry__ (rewritten to a nop at boot)
  b.set([0x48, 0xc7, 0xc7, 0x40, 0x00, 0x00, 0x81], 5); // mov $0xffffffff81000040,%rdi
  b[31] = 0xc3;
  return b;
}

function moduleWith(functions: object[] | undefined): string {
  const file = parseElf(readFileSync(livepatchModule()), { file: 'm.ko' });
  if (functions) file.sections.push(new ElfSection({ name: '.rebootless.live_code', type: SHT_PROGBITS, data: new TextEncoder().encode(JSON.stringify({ version: 1, functions })) }));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-live-code-'));
  dirs.push(dir);
  const out = path.join(dir, 'livepatch_a.ko');
  writeFileSync(out, serializeElf(file));
  return out;
}

/** A host whose kcore maps LIVE_ADDR.. to `running`, listing `kallsyms` lines. */
function host(running: Uint8Array, kallsyms: string[]): LiveHost {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rb-live-root-'));
  dirs.push(root);
  mkdirSync(path.join(root, 'proc'));
  writeFileSync(path.join(root, 'proc/kallsyms'), kallsyms.join('\n') + '\n');
  const core = new Uint8Array(0x200);
  const v = new DataView(core.buffer);
  core.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(0x10, 4, true); // ET_CORE
  v.setBigUint64(0x20, 0x40n, true); // e_phoff
  v.setUint16(0x36, 56, true);
  v.setUint16(0x38, 1, true);
  v.setUint32(0x40, 1, true); // PT_LOAD
  v.setBigUint64(0x48, 0x100n, true); // p_offset
  v.setBigUint64(0x50, LIVE_ADDR, true); // p_vaddr
  v.setBigUint64(0x60, 0x100n, true); // p_filesz
  core.set(running, 0x100 + 0x40);
  writeFileSync(path.join(root, 'proc/kcore'), core);
  return { root, release: () => 'x', isRoot: () => true, exec: () => Promise.resolve({ exitCode: 0, output: '' }), now: () => 0, sleep: () => Promise.resolve() };
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const expectation = (over: object = {}): object => ({
  object: 'vmlinux',
  name: 'cmdline_proc_show',
  sympos: 2,
  address: `0x${(FILE_ADDR + 0x40n).toString(16)}`,
  bytes: hexOf(releaseCode()),
  relocated: [[8, 4]],
  rewritten: [[0, 5, 'ftrace call']],
  ...over,
});
const KALLSYMS = [`${(LIVE_ADDR + 0x10n).toString(16)} t cmdline_proc_show`, `${(LIVE_ADDR + 0x40n).toString(16)} t cmdline_proc_show`, 'ffffffffc0000000 t ext4_file_write_iter\t[ext4]'];

/** The release's code as the running kernel has it: the fentry call a nop, the address moved by KASLR. */
function runningCode(): Uint8Array {
  const b = releaseCode();
  b.set([0x0f, 0x1f, 0x44, 0x00, 0x00], 0);
  b.set([0x40, 0x00, 0x00, 0x9a], 8);
  return b;
}

describe('the running code compared with the release before loading', () => {
  it('matches when only the fentry site and the KASLR-moved address differ, at the sympos-th symbol of the name', async () => {
    const r = await checkLiveCode(host(runningCode(), KALLSYMS), moduleWith([expectation()]), 'livepatch_a');
    expect(r).toEqual({ available: true, functions: [{ object: 'vmlinux', function: 'cmdline_proc_show', result: 'matches', rewritten: ['+0x0 ftrace call'] }] });
  });

  it('a PC-relative reach into per-CPU space (zero-based: KASLR moves the field by the negated displacement) matches', async () => {
    const running = runningCode();
    // 90 90 90 90 in the release; the kernel moved 0x19000000 up, so the displacement shrank by as much
    running.set([0x90, 0x90, 0x90, 0x77], 14);
    const r = await checkLiveCode(host(running, KALLSYMS), moduleWith([expectation({ relocated: [[8, 4], [14, 4]] })]), 'livepatch_a');
    expect(r.functions[0]?.result).toBe('matches');
    running[17] = 0x78;
    const e = await rejection(checkLiveCode(host(running, KALLSYMS), moduleWith([expectation({ relocated: [[8, 4], [14, 4]] })]), 'livepatch_a'));
    expect(e.data).toMatchObject({ offset: 14 });
  });

  it('an address field that KASLR alone cannot explain is a mismatch', async () => {
    const running = runningCode();
    running[9] = 0x01;
    const e = await rejection(checkLiveCode(host(running, KALLSYMS), moduleWith([expectation()]), 'livepatch_a'));
    expect(e.code).toBe('LIVE_CODE_MISMATCH');
    expect(e.data).toMatchObject({ function: 'cmdline_proc_show', offset: 8 });
  });

  it('a byte the kernel never rewrites differs: refused, naming the offset and both byte runs', async () => {
    const running = runningCode();
    running[20] = 0xcc; // an int3, as a kprobe leaves it
    const e = await rejection(checkLiveCode(host(running, KALLSYMS), moduleWith([expectation()]), 'livepatch_a'));
    expect(e.code).toBe('LIVE_CODE_MISMATCH');
    expect(e.data).toMatchObject({ object: 'vmlinux', function: 'cmdline_proc_show', offset: 20, expected: '90 90 90 90 90 90 90 90', running: 'cc 90 90 90 90 90 90 90' });
    expect(e.hint).toMatch(/kprobe/);
  });

  it('reads the sympos-th function of the name: the first cmdline_proc_show holds other bytes', async () => {
    const e = await rejection(checkLiveCode(host(runningCode(), KALLSYMS), moduleWith([expectation({ sympos: 1 })]), 'livepatch_a'));
    expect(e.code).toBe('LIVE_CODE_MISMATCH');
  });

  it('a function of a module that is not loaded is left to the kernel; a module without expectations is not checked', async () => {
    const r = await checkLiveCode(host(runningCode(), KALLSYMS), moduleWith([expectation({ object: 'btrfs', name: 'btrfs_sync_file', sympos: 0 })]), 'livepatch_a');
    expect(r.functions).toEqual([{ object: 'btrfs', function: 'btrfs_sync_file', result: 'not-loaded', rewritten: [] }]);
    expect(await checkLiveCode(host(runningCode(), KALLSYMS), moduleWith(undefined), 'livepatch_a')).toEqual({ available: false, functions: [] });
  });

  it('predict says unchecked, with the reason, when the running code cannot be read (no /proc/kcore); matches when it can', async () => {
    const m = await readModuleFile(moduleWith([expectation()]));
    const h = host(runningCode(), KALLSYMS);
    const same = { ...h, release: () => m.release };
    expect((await liveCodeOutlook(same, m)).verdict).toBe('matches');
    rmSync(path.join(h.root, 'proc/kcore'));
    const o = await liveCodeOutlook(same, m);
    expect(o.verdict).toBe('unchecked');
    expect(o.note).toMatch(/^not compared \(apply will stop here too\): .*kcore/);
  });
});
