import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRelease } from '../../src/kernel/fetch.js';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { silentProgress } from '../../src/util/progress.js';
import { Vm } from '../../src/vm/session.js';
import { buildFixture, patchBuilder } from '../helpers/build-and-try.js';
import { sharedCache } from '../helpers/workspace.js';

// A real fix, as Debian shipped it: linux 6.1.192-2 (bookworm-security) is
// 6.1.192-1 plus one upstream change, "ext4: fix NULL folio dereference in
// mballoc". On 6.1.192-1's kernel (ABI 6.1.0-55) a block allocation after the
// page cache was dropped oopses; with the fix built from the diff and applied
// live, the same work runs, and the patch reverts cleanly.

const RELEASE = '6.1.0-55-cloud-amd64';
let ws: KernelWorkspace;
const { out, build } = patchBuilder('rb-realfix-', () => ws.release);

beforeAll(async () => {
  ws = (await fetchRelease({ cacheRoot: sharedCache(), requested: RELEASE, progress: silentProgress })).workspace;
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

// an ext4 file system on a loop device; then write, free, drop the page cache, allocate again
const SETUP = 'modprobe loop && dd if=/dev/zero of=/tmp/e.img bs=1M count=32 2>/dev/null && L=$(losetup -f) && losetup $L /tmp/e.img && mke2fs -q $L >/dev/null 2>&1 && mkdir -p /mnt/e && mount -t ext4 $L /mnt/e';
const WORK = 'dd if=/dev/urandom of=/mnt/e/f bs=64k count=16 2>/dev/null; sync; rm /mnt/e/f; sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/zero of=/mnt/e/g bs=64k count=16 2>/dev/null; sync; stat -c %s /mnt/e/g; rm /mnt/e/g';

describe(`a Debian security update's fix on ${RELEASE}`, () => {
  it('ext4 mballoc (6.1.192-1 → -2): the released kernel oopses on the work, the live-patched one does it three times, then reverts', async () => {
    const b = await build(buildFixture('ext4-mballoc-folio.patch'), 'ext4_mballoc');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/patched\s+ext4_mb_init_group\n\s+patched\s+ext4_mb_load_buddy_gfp\n\s+run-pre\s+3 functions identical to vmlinux's/);

    // the release as shipped: the NULL folio is dereferenced
    const plain = await Vm.start({ workspace: ws, cacheRoot: sharedCache(), modules: ['loop'] });
    try {
      expect((await plain.run(SETUP, { timeoutMs: 120_000 })).exitCode).toBe(0);
      await plain.run(WORK, { timeoutMs: 20_000 }).catch(() => undefined); // the shell dies with the oops, or hangs behind it
    } finally {
      const r = await plain.stop();
      expect(r.trouble.map((t) => t.kind), r.console.slice(-2000)).toContain('oops');
    }

    // the same work with the fix applied live
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache(), withCli: true, modules: ['loop'] });
    try {
      await vm.copyIn(b.ko, '/root/fix.ko');
      expect((await vm.run(SETUP, { timeoutMs: 120_000 })).exitCode).toBe(0);
      const applied = await vm.run('rebootless apply /root/fix.ko 2>&1', { timeoutMs: 300_000 });
      expect(applied.exitCode, applied.output).toBe(0);
      expect(applied.output).toMatch(/running code checked: 2 functions are the release's/);
      expect(applied.output).toMatch(/applied on 6.1.0-55-cloud-amd64; every task switched/);
      const worked = await vm.run(`for i in 1 2 3; do ${WORK}; done`, { timeoutMs: 240_000 });
      expect(worked.output).toBe('1048576\n1048576\n1048576\n');
      const reverted = await vm.run('rebootless revert livepatch_ext4_mballoc 2>&1; ls /sys/kernel/livepatch | wc -l', { timeoutMs: 300_000 });
      expect(reverted.output.trim().split('\n').at(-1)).toBe('0');
    } finally {
      const r = await vm.stop();
      expect(r.trouble).toEqual([]);
    }
  });
});
