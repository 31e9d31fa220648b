import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../src/elf/constants.js';
import type { ElfSymbol } from '../../src/elf/model.js';
import { compileSource, unitRecord, unitRecords, workspaceCompiler } from '../../src/kbuild/compile.js';
import { ownerOfCommand } from '../../src/kbuild/owner.js';
import { isRebootlessError, type RebootlessError } from '../../src/errors/index.js';
import { linkModule } from '../../src/kbuild/link.js';
import { renderKbuild, shippedRecord, SHIPPED_SUFFIX } from '../../src/kbuild/records.js';
import { findSymtab } from '../../src/elf/edit.js';
import { readElfFile, readElfSymbols } from '../../src/elf/files.js';
import { fileBlocks, findSympos, matchFileBlock } from '../../src/klp/sympos.js';
import { backports612Workspace, defaultWorkspace } from '../helpers/workspace.js';

// fs/proc/base.c has a static proc_single_open, and so does another file of
// vmlinux; and base.c is a common file name. The compiled object must find
// its own FILE block and the right position.

const work = mkdtempSync(path.join(os.tmpdir(), 'rb-sympos-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('build pieces against the release: sympos in vmlinux, object owners', () => {
  it('finds the FILE block of fs/proc/base.c and the position of its proc_single_open', async () => {
    const ws = await defaultWorkspace();
    const cc = workspaceCompiler(ws);
    const obj = await readElfFile(await compileSource(cc, 'fs/proc/base.c', path.join(work, 'base')));
    const locals = (findSymtab(obj)?.symbols ?? [])
      .filter((s) => s.bind === STB_LOCAL && (s.type === STT_FUNC || s.type === STT_OBJECT) && !/\.\d+$/.test(s.name))
      .map((s) => s.name);
    const vmlinux = await readElfSymbols(ws.vmlinux);
    const symbols = findSymtab(vmlinux)?.symbols ?? [];
    const blocks = fileBlocks(symbols);
    expect(blocks.some((b) => b.file === 'base.c')).toBe(true);
    const match = matchFileBlock(blocks, 'base.c', locals);
    expect(match).toBeDefined();
    expect(match?.score).toBeGreaterThan(0.9);
    expect(match?.block.localNames.has('proc_pid_cmdline_read')).toBe(true);

    const r = findSympos(symbols, 'proc_single_open', 'address', match?.block);
    expect('sympos' in r && r.sympos).toBeGreaterThan(0);
    if (!('sympos' in r)) throw new Error('no sympos');
    // the symbol chosen lies among the block's own functions
    const addrs = (match?.block.symbols ?? []).filter((s: ElfSymbol) => s.type === STT_FUNC).map((s) => s.value);
    const lo = addrs.reduce((a, b) => (a < b ? a : b));
    const hi = addrs.reduce((a, b) => (a > b ? a : b));
    expect(r.symbol.value >= lo && r.symbol.value <= hi).toBe(true);
    // kbuild's record says where the object goes
    expect(ownerOfCommand((await unitRecord(cc, 'fs/proc/base.o')).commands[0] ?? [])).toEqual({ kind: 'vmlinux' });
    expect(ownerOfCommand((await unitRecord(cc, 'fs/binfmt_misc.o')).commands[0] ?? [])).toEqual({ kind: 'module', name: 'binfmt_misc' });
    // and a name that is unique in vmlinux gets 0
    expect(findSympos(symbols, 'proc_pid_cmdline_read', 'address', match?.block)).toMatchObject({ sympos: 0 });
  });

  it.each([
    ['the default release', defaultWorkspace],
    ["bookworm-backports' 6.12 (savedcmd_ records, modules.order of .o files, .module-common.o kept and copied)", backports612Workspace],
  ])("links a module by replaying kbuild's recorded link byte for byte: the same .ko as kbuild's in the same directory, on %s", async (_what, workspace) => {
    const ws = await workspace();
    const work = mkdtempSync(path.join(os.tmpdir(), 'rb-replay-'));
    try {
      const cc = workspaceCompiler(ws);
      const part = readFileSync(await compileSource(cc, 'fs/proc/cmdline.c', path.join(work, 'part')));
      const name = 'livepatch_replay_check';
      const files = {
        'livepatch.c': '#include <linux/module.h>\nstatic int __init lp_init(void) { return 0; }\nmodule_init(lp_init);\nMODULE_LICENSE("GPL");\n',
        Kbuild: renderKbuild(name, ['livepatch.o', 'patch0.o']),
        [`patch0.o${SHIPPED_SUFFIX}`]: part,
        [shippedRecord('patch0.o').file]: shippedRecord('patch0.o').text,
      };
      const cacheDir = path.join(work, 'cache');
      const dir = path.join(work, 'module');
      const link = () => linkModule({ tree: cc.tree, cc: ws.cc, release: ws.release, toolchain: cc.toolchain, cacheDir, dir, moduleName: name, files, parts: ['livepatch.o', 'patch0.o'] });
      const read = (f: string) => readFileSync(path.join(dir, f));
      await link();
      expect(existsSync(path.join(cacheDir, 'link-recipe.json'))).toBe(true);
      const byKbuild = { ko: read(`${name}.ko`), modC: read(`${name}.mod.c`), symvers: read('Module.symvers') };
      expect(existsSync(path.join(dir, `.${name}.ko.cmd`))).toBe(true);
      rmSync(dir, { recursive: true });
      await link();
      // kbuild writes a record of every target it builds; the replay writes none for the .ko
      expect(existsSync(path.join(dir, `.${name}.ko.cmd`))).toBe(false);
      expect(read(`${name}.mod.c`).equals(byKbuild.modC)).toBe(true);
      expect(read('Module.symvers').equals(byKbuild.symvers)).toBe(true);
      expect(read(`${name}.ko`).equals(byKbuild.ko)).toBe(true);
      // a third link takes the two compiles (livepatch.c, the .mod.c) from the cache: the same module
      expect(existsSync(path.join(cacheDir, 'objects', '.rebootless-link', name, 'livepatch.o'))).toBe(true);
      rmSync(dir, { recursive: true });
      await link();
      expect(read(`${name}.ko`).equals(byKbuild.ko)).toBe(true);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("learns the same kbuild records from the descent alone (the top Makefile's environment captured once) as from a full dry run", async () => {
    const ws = await defaultWorkspace();
    const objects = ['fs/proc/version.o', 'fs/binfmt_misc.o', 'net/ipv4/tcp.o', 'drivers/net/virtio_net.o', 'arch/x86/kernel/process_64.o', 'kernel/sched/core.o', 'kernel/trace/trace.o'];
    const { cacheDir: _shared, ...uncached } = workspaceCompiler(ws);
    const full = await unitRecords(uncached, objects);
    const cacheDir = path.join(work, 'descent-cache');
    const descent = await unitRecords({ ...uncached, cacheDir }, objects);
    expect(existsSync(path.join(cacheDir, 'kbuild-environment.json'))).toBe(true);
    expect(descent.map((r) => r.record)).toEqual(full.map((r) => r.record));
  });

  it('a patched source that does not compile is BUILD_COMPILE_FAILED, the compiler naming the file as the tree does', async () => {
    const cc = workspaceCompiler(await defaultWorkspace());
    const text = readFileSync(path.join(cc.tree, 'fs/proc/cmdline.c'), 'utf8').replace("seq_putc(m, '\\n');", "seq_putc(m, '\\n') oops;");
    const e = await compileSource(cc, 'fs/proc/cmdline.c', path.join(work, 'broken'), text).then(() => undefined, (x: unknown) => x);
    expect(isRebootlessError(e) && e.code).toBe('BUILD_COMPILE_FAILED');
    const d = (e as RebootlessError<'BUILD_COMPILE_FAILED'>).data;
    expect(d.variant).toBe('patched');
    expect(d.output).toMatch(/^fs\/proc\/cmdline\.c:\d+:\d+: error:/m);
    expect(d.output).not.toContain(work);
  });
});
