import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { Vm } from '../../src/vm/session.js';
import { buildFixture, patchBuilder, tryModule } from '../helpers/build-and-try.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// The author API (include/linux/rebootless.h) end to end: the examples build,
// and the VM shows the state they change before, while and after the patch.

let ws: KernelWorkspace;
const { out, build } = patchBuilder('rb-author-', () => ws.release);

beforeAll(async () => {
  ws = await defaultWorkspace();
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Waits (up to 60 s) until no live patch is in transition: a guest shell line. */
const settle = 'for i in $(seq 300); do grep -qs 1 /sys/kernel/livepatch/*/transition || break; sleep 0.2; done';

describe('author API: callbacks and shadow variables', () => {
  it('a global set by a post-patch callback and put back by a pre-unpatch callback (examples/kptr-guard.patch)', async () => {
    const b = await build('examples/kptr-guard.patch', 'kptr_guard');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/carried\s+hide_pointers/);
    const t = await tryModule(ws.release, b.ko, 'cat /proc/sys/kernel/kptr_restrict; cut -d" " -f1 /proc/cmdline');
    expect(t.code).toBe(0);
    expect(t.report.trouble).toEqual([]);
    const [before, first] = t.step('check-before').split('\n');
    expect(first).toBe('console=ttyS0');
    expect(before).not.toBe('2');
    expect(t.step('check-patched')).toBe('2\nkptr-guarded');
    expect(t.step('check-after')).toBe(t.step('check-before'));
  });

  it('a new field as a shadow variable, allocated when first used and freed by a post-unpatch callback (examples/cmdline-reads.patch)', async () => {
    const b = await build('examples/cmdline-reads.patch', 'cmdline_reads');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/carried\s+free_reads/);
    const t = await tryModule(ws.release, b.ko, 'cut -d" " -f1 /proc/cmdline; cut -d" " -f1 /proc/cmdline');
    expect(t.code).toBe(0);
    expect(t.step('check-before')).toBe('console=ttyS0\nconsole=ttyS0');
    expect(t.step('check-patched')).toBe('reads=1\nreads=2');
    expect(t.step('check-after')).toBe(t.step('check-before'));
    // loaded again after an unpatch, the count starts over: the callback freed the old counters
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache() });
    try {
      await vm.copyIn(b.ko, '/root/reads.ko');
      const dir = '/sys/kernel/livepatch/livepatch_cmdline_reads';
      const once = `insmod /root/reads.ko && ${settle} && cut -d" " -f1 /proc/cmdline && cut -d" " -f1 /proc/cmdline && echo 0 > ${dir}/enabled && for i in $(seq 300); do [ -d ${dir} ] || break; sleep 0.2; done && rmmod livepatch_cmdline_reads`;
      const r = await vm.run(`${once} && ${once}`);
      expect(r.output.trim().split('\n')).toEqual(['reads=1', 'reads=2', 'reads=1', 'reads=2']);
    } finally {
      expect((await vm.stop()).trouble).toEqual([]);
    }
  });

  it('a fix that needs both: a shadow field and a global set and put back by callbacks (examples/cmdline-guard.patch)', async () => {
    const b = await build('examples/cmdline-guard.patch', 'cmdline_guard');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/carried\s+forget_reads/);
    const t = await tryModule(ws.release, b.ko, 'cat /proc/sys/kernel/kptr_restrict; cut -d" " -f1 /proc/cmdline; cut -d" " -f1 /proc/cmdline');
    expect(t.code).toBe(0);
    const [kptr, ...reads] = t.step('check-before').split('\n');
    expect(kptr).not.toBe('2');
    expect(reads).toEqual(['console=ttyS0', 'console=ttyS0']);
    expect(t.step('check-patched')).toBe('2\nguarded-read=1\nguarded-read=2');
    expect(t.step('check-after')).toBe(t.step('check-before'));
  });

  it('states: a patch declaring a state at a lower version cannot replace one declaring it higher; the other way round it can', async () => {
    const v1 = await build(buildFixture('state-v1.patch'), 'state_v1');
    const v2 = await build(buildFixture('state-v2.patch'), 'state_v2');
    expect(v1.code, v1.stderr).toBe(0);
    expect(v2.code, v2.stderr).toBe(0);
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache() });
    try {
      await vm.copyIn(v1.ko, '/root/v1.ko');
      await vm.copyIn(v2.ko, '/root/v2.ko');
      const show = 'cut -d" " -f1 /proc/cmdline';
      const off = (name: string): string =>
        `echo 0 > /sys/kernel/livepatch/${name}/enabled && for i in $(seq 300); do [ -d /sys/kernel/livepatch/${name} ] || break; sleep 0.2; done && rmmod ${name}`;
      const r = await vm.run(
        [
          `insmod /root/v2.ko && ${settle} && ${show}`,
          `insmod /root/v1.ko 2>/dev/null; echo "v1 over v2: $?"; ${show}`,
          off('livepatch_state_v2'),
          `insmod /root/v1.ko && ${settle} && ${show}`,
          `insmod /root/v2.ko && ${settle} && echo "v2 over v1: $?" && ${show}`,
        ].join('; '),
      );
      const lines = r.output.trim().split('\n');
      expect(lines).toEqual(['state-v2', expect.stringMatching(/^v1 over v2: [1-9]/), 'state-v2', 'state-v1', 'v2 over v1: 0', 'state-v2']);
    } finally {
      await vm.stop();
    }
  });
});
