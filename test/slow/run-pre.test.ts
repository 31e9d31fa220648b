import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modinfoOf, modinfoValue, parseElf } from '../../src/elf/index.js';
import { Vm } from '../../src/vm/session.js';
import { runCliProcess } from '../helpers/run-cli.js';
import { copyPreparedTree, defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// run-pre on the real release: a tree that is not the one the kernel was
// built from is refused before anything is built on it; a function whose
// name repeats inside a stripped module is found by its code, and the patch
// lands on it (observed in the guest).

const cache = sharedCache();
const env = (): NodeJS.ProcessEnv => ({ REBOOTLESS_CACHE: cache });
const out = mkdtempSync(path.join(os.tmpdir(), 'rb-run-pre-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('run-pre against the release', () => {
  it('a tree whose cmdline_proc_show differs from the release (outside the patch) is refused with RUN_PRE_MISMATCH; --skip-run-pre builds and says so', async () => {
    const ws = await defaultWorkspace();
    // a copy of the prepared tree, hard-linked (never written), with one file replaced
    const tree = path.join(out, 'altered');
    await copyPreparedTree(ws, tree);
    const file = path.join(tree, 'fs/proc/cmdline.c');
    const lines = readFileSync(file, 'utf8').split('\n');
    unlinkSync(file);
    // lines above the example patch's hunk: seq_putc now writes '!' where the release writes '\n'
    lines[0] = '#include <linux/seq_file.h>';
    lines[4] = "#define seq_putc(m, c) seq_putc(m, '!')";
    writeFileSync(file, lines.join('\n'));
    const name = `altered-${path.basename(out)}`;
    const added = await runCliProcess(['kernel', 'add', name, '--build-dir', tree, '--vmlinuz', ws.vmlinuz, '--modules', ws.modulesDir], env());
    expect(added.code, added.stderr).toBe(0);
    try {
      const ko = path.join(out, 'altered.ko');
      const refused = await runCliProcess(['build', 'examples/cmdline.patch', '--kernel', name, '-o', ko], env());
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/fs\/proc\/cmdline\.o: cmdline_proc_show\+0x[0-9a-f]+: the code compiled from the release's source is not the code in vmlinux/);
      expect(refused.stderr).toMatch(/compiled: \+0x[0-9a-f]+: mov \$0x21,%esi/);
      expect(refused.stderr).toMatch(/vmlinux: \+0x[0-9a-f]+: mov \$0xa,%esi/);
      expect(() => readFileSync(ko)).toThrow();

      const skipped = await runCliProcess(['build', 'examples/cmdline.patch', '--kernel', name, '-o', ko, '--skip-run-pre', '--json', path.join(out, 'skipped.json')], env());
      expect(skipped.code, skipped.stderr).toBe(0);
      expect(skipped.stdout).toMatch(/run-pre {2}SKIPPED/);
      expect(skipped.stdout).toMatch(/warning: run-pre skipped \(--skip-run-pre\)/);
      expect(modinfoValue(modinfoOf(parseElf(readFileSync(ko))) ?? [], 'run_pre')).toBe('skipped');
      const report = JSON.parse(readFileSync(path.join(out, 'skipped.json'), 'utf8')) as { objects: { runPre: unknown }[] };
      expect(report.objects[0]?.runPre).toBe('skipped');
    } finally {
      rmSync(path.join(cache, 'kernels', name), { recursive: true, force: true });
    }
  });

  it('fat.ko\'s second init_once (no FILE symbols to tell them apart) is found by its code; the patched inode constructor runs in the guest', async () => {
    const ws = await defaultWorkspace();
    const ko = path.join(out, 'fat.ko');
    const json = path.join(out, 'fat.json');
    const built = await runCliProcess(['build', 'test/fixtures/build/fat-inode-ctor.patch', '--kernel', ws.release, '-o', ko, '--json', json], env());
    expect(built.code, built.stderr).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { objects: { patched: { name: string; sympos: number }[]; runPre: { name: string; result: string; sympos: number; candidates: number }[] }[] };
    expect(report.objects[0]?.patched).toEqual([{ name: 'init_once', sympos: 2 }]);
    expect(report.objects[0]?.runPre).toContainEqual(expect.objectContaining({ name: 'init_once', role: 'replaced', result: 'matched', sympos: 2, candidates: 2 }));

    const vm = await Vm.start({ workspace: ws, cacheRoot: cache, withCli: true, modules: ['vfat', 'loop', 'nls_cp437', 'nls_ascii'] });
    try {
      await vm.copyIn(ko, '/root/fat.ko');
      const sh = async (cmd: string): Promise<{ code: number; out: string }> => {
        const r = await vm.run(`cd /root; ${cmd}`, { timeoutMs: 240_000 });
        return { code: r.exitCode, out: r.output };
      };
      // vfat's default codepage and charset, and a loop device for the image
      expect((await sh('for m in vfat loop nls_cp437 nls_ascii; do modprobe $m || exit 1; done; grep -c "^fat " /proc/modules')).out).toBe('1\n');
      const apply = await sh('rebootless apply fat.ko --json 2>/tmp/err');
      expect(apply.code, apply.out).toBe(0);
      const live = (JSON.parse(apply.out) as { liveCode: { functions: { object: string; function: string; result: string }[] } }).liveCode.functions;
      expect(live).toEqual([expect.objectContaining({ object: 'fat', function: 'init_once', result: 'matches' })]);
      // the first fat inode ever allocated runs the slab constructor: the patched one
      const mounted = await sh('dd if=/dev/zero of=/tmp/fat.img bs=1M count=40 2>/dev/null && mkdosfs /tmp/fat.img >/dev/null && mkdir -p /mnt && mount -o loop -t vfat /tmp/fat.img /mnt && touch /mnt/a && dmesg | grep -c "rebootless: fat inode constructed"; umount /mnt');
      expect(Number(mounted.out.trim().split('\n')[0])).toBeGreaterThan(0);
      expect((await sh('rebootless revert livepatch_fat_inode_ctor')).code).toBe(0);
      expect((await sh('ls /sys/kernel/livepatch | wc -l')).out.trim()).toBe('0');
    } finally {
      const r = await vm.stop();
      expect(r.trouble).toEqual([]);
    }
  });
});
