import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { Vm } from '../../src/vm/session.js';
import { runCliProcess } from '../helpers/run-cli.js';
import { buildFixture, patchBuilder, tryModule, type Tried } from '../helpers/build-and-try.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// Patches end to end on the real release: build → load in the VM → the
// behaviour changes → disable → unload → the behaviour is back, console clean.

let ws: KernelWorkspace;
const { out, build } = patchBuilder('rb-build-', () => ws.release);
const fixture = buildFixture;

beforeAll(async () => {
  ws = await defaultWorkspace();
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const tryIt = (ko: string, check: string, extra: string[] = []): Promise<Tried> => tryModule(ws.release, ko, check, extra);

describe('rebootless build + try on the real kernel', () => {
  it('a simple function change (examples/cmdline.patch) takes effect and reverts', async () => {
    const b = await build('examples/cmdline.patch', 'cmdline');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/fs\/proc\/cmdline\.c \(vmlinux\):\n\s+patched\s+cmdline_proc_show/);
    const t = await tryIt(b.ko, 'cat /proc/cmdline');
    expect(t.code).toBe(0);
    expect(t.report.trouble).toEqual([]);
    expect(t.step('check-before')).toMatch(/^console=ttyS0/);
    expect(t.step('check-patched')).toBe(`rebootless-patched ${t.step('check-before')}`);
    expect(t.step('check-after')).toBe(t.step('check-before'));
    // the regenerated __mcount_loc makes the new code known to ftrace
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache() });
    try {
      await vm.copyIn(b.ko, '/root/cmdline.ko');
      const r = await vm.run('insmod /root/cmdline.ko && grep -c "^__rebootless_new_cmdline_proc_show" /sys/kernel/tracing/available_filter_functions');
      expect(r.output.trim()).toBe('1');
    } finally {
      expect((await vm.stop()).trouble).toEqual([]);
    }
  });

  it('a new function with a new static local variable', async () => {
    const b = await build(fixture('cmdline-counter.patch'), 'counter');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/carried\s+rebootless_next_read/);
    const t = await tryIt(b.ko, 'cat /proc/cmdline | cut -d" " -f1; cat /proc/cmdline | cut -d" " -f1');
    expect(t.step('check-patched')).toBe('read-1\nread-2');
    expect(t.step('check-after')).toBe('console=ttyS0\nconsole=ttyS0');
    expect(t.code).toBe(0);
  });

  it('a static helper inlined into several callers changes each caller', async () => {
    const b = await build(fixture('task-state.patch'), 'task_state');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/patched\s+do_task_stat/);
    expect(b.stdout).toMatch(/patched\s+proc_pid_status/);
    const t = await tryIt(b.ko, `grep State /proc/self/status; cut -d' ' -f3 /proc/self/stat`);
    expect(t.step('check-before')).toBe('State:\tR (running)\nR');
    expect(t.step('check-patched')).toBe('State:\tS (live patched)\nS');
    expect(t.step('check-after')).toBe('State:\tR (running)\nR');
    expect(t.code).toBe(0);
  });

  it('a SYSCALL_DEFINE body (getppid)', async () => {
    const b = await build(fixture('getppid.patch'), 'getppid');
    expect(b.code, b.stderr).toBe(0);
    const t = await tryIt(b.ko, `a=$(sh -c 'echo $PPID'); echo $((a - $$))`);
    expect([t.step('check-before'), t.step('check-patched'), t.step('check-after')]).toEqual(['0', '100000', '0']);
    expect(t.code).toBe(0);
  });

  it("a function with a tracepoint: its static branch on vmlinux's unexported key follows the key when the event is enabled while the patch is live", async () => {
    const b = await build(fixture('wait-tracepoint.patch'), 'wait_tracepoint');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/patched\s+do_wait/);
    const sections = (await runCliProcess(['elf', 'dump', '--sections', b.ko], {})).stdout;
    expect(sections).toContain('.klp.rela.vmlinux.__jump_table');
    // the check enables sched_process_wait (flipping the key) only around one wait of its shell
    const check = [
      'T=/sys/kernel/tracing; E=$T/events/sched/sched_process_wait/enable',
      'echo > $T/trace; echo 1 > $E; /bin/true; echo 0 > $E',
      'if grep -q "sched_process_wait: comm=sh pid=$$ " $T/trace; then echo waiter-reported',
      'elif grep -q "sched_process_wait: comm=sh pid=0 " $T/trace; then echo any-child-reported',
      'else echo no-event; fi',
    ].join('; ');
    const t = await tryIt(b.ko, check);
    expect(t.code, JSON.stringify(t.report.steps)).toBe(0);
    expect(t.step('check-before')).toBe('any-child-reported');
    expect(t.step('check-patched')).toBe('waiter-reported');
    expect(t.step('check-after')).toBe('any-child-reported');
  });

  it('a module function, with the module loaded before the patch', async () => {
    const b = await build(fixture('binfmt-status.patch'), 'binfmt');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/fs\/binfmt_misc\.c \(module binfmt_misc\)/);
    const setup = 'modprobe binfmt_misc && mount -t binfmt_misc none /proc/sys/fs/binfmt_misc';
    const t = await tryIt(b.ko, 'cat /proc/sys/fs/binfmt_misc/status', ['--module', 'binfmt_misc', '--setup', setup]);
    expect([t.step('check-before'), t.step('check-patched'), t.step('check-after')]).toEqual(['enabled', 'enabled (live patched)', 'enabled']);
    expect(t.code).toBe(0);
  });

  it('a module function, with the module loaded after the patch', async () => {
    const ko = path.join(out, 'binfmt.ko');
    expect(existsSync(ko)).toBe(true);
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache(), modules: ['binfmt_misc'] });
    try {
      await vm.copyIn(ko, '/root/binfmt.ko');
      const load = await vm.run('insmod /root/binfmt.ko && cat /sys/kernel/livepatch/livepatch_binfmt/binfmt_misc/patched');
      expect(load.output.trim()).toBe('0'); // nothing to patch until the module comes
      const r = await vm.run(
        'modprobe binfmt_misc && mount -t binfmt_misc none /proc/sys/fs/binfmt_misc && sleep 1 && cat /sys/kernel/livepatch/livepatch_binfmt/binfmt_misc/patched /proc/sys/fs/binfmt_misc/status',
      );
      expect(r.output).toBe('1\nenabled (live patched)\n');
      const off = await vm.run(
        'echo 0 > /sys/kernel/livepatch/livepatch_binfmt/enabled; while [ -e /sys/kernel/livepatch/livepatch_binfmt ]; do sleep 0.2; done; rmmod livepatch_binfmt && cat /proc/sys/fs/binfmt_misc/status',
      );
      expect(off.output).toBe('enabled\n');
    } finally {
      const report = await vm.stop();
      expect(report.trouble).toEqual([]);
    }
  });

  it('two patches loaded together with --no-replace, and a third replacing them atomically', async () => {
    const a = await build('examples/cmdline.patch', 'stack_a', ['--no-replace']);
    const b = await build(fixture('getppid.patch'), 'stack_b', ['--no-replace']);
    const c = await build(fixture('cmdline-v2.patch'), 'replacer');
    for (const x of [a, b, c]) expect(x.code, x.stderr).toBe(0);
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache() });
    const wait = (name: string): string => `while [ "$(cat /sys/kernel/livepatch/${name}/transition)" != 0 ]; do sleep 0.2; done`;
    const probe = `cut -d" " -f1 /proc/cmdline; a=$(sh -c 'echo $PPID'); echo $((a - $$)); ls /sys/kernel/livepatch | tr '\\n' ' '; echo`;
    try {
      for (const x of [a, b, c]) await vm.copyIn(x.ko, `/root/${path.basename(x.ko)}`);
      await vm.run(`insmod /root/stack_a.ko && ${wait('livepatch_stack_a')} && insmod /root/stack_b.ko && ${wait('livepatch_stack_b')}`);
      expect((await vm.run(probe)).output).toBe('rebootless-patched\n100000\nlivepatch_stack_a livepatch_stack_b \n');
      await vm.run(`insmod /root/replacer.ko && ${wait('livepatch_replacer')} && sleep 1`);
      // the replaced patches are disabled and gone from sysfs; only the replacer is live
      expect((await vm.run(probe)).output).toBe('rebootless-v2\n0\nlivepatch_replacer \n');
      const rest = await vm.run(
        'rmmod livepatch_stack_a livepatch_stack_b && echo 0 > /sys/kernel/livepatch/livepatch_replacer/enabled && while [ -e /sys/kernel/livepatch/livepatch_replacer ]; do sleep 0.2; done; rmmod livepatch_replacer && cut -d" " -f1 /proc/cmdline',
      );
      expect(rest.output).toBe('console=ttyS0\n');
    } finally {
      const report = await vm.stop();
      expect(report.trouble).toEqual([]);
    }
  });

  it.each([
    ['data-change.patch', 2, /fs_overflowuid: initial value of fs_overflowuid changed \[DATA_CHANGED\]/],
    ['init-change.patch', 2, /proc_cmdline_init is \.init\.text code and changed \(what it does, not only where it refers to\) \[INIT_CHANGED\]/],
    ['init-registers-renamed.patch', 2, /proc_cmdline_init is \.init\.text code and changed: it now takes the address of cmdline_proc_show_v2, new in the patch; .* would never run \(keep the function.s name and change it in place\) \[INIT_CHANGED\]/],
    ['comment-only.patch', 3, /no functional change/],
  ])('%s is refused with exit %i and no module is written', async (patch, code, message) => {
    const b = await build(fixture(patch), patch.replace(/\W/g, '_'));
    expect(b.code).toBe(code);
    expect(b.stderr).toMatch(message);
    expect(existsSync(b.ko)).toBe(false);
  });
});

describe('rebootless demo', () => {
  it('builds the example, proves it in the VM, and shows /proc/cmdline before, while patched and after', async () => {
    const r = await runCliProcess(['demo'], { REBOOTLESS_CACHE: sharedCache() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\/proc\/cmdline before: +console=ttyS0/);
    expect(r.stdout).toMatch(/\/proc\/cmdline while patched: rebootless-patched console=ttyS0/);
    expect(r.stdout).toMatch(/\/proc\/cmdline after revert: +console=ttyS0/);
    // step 4: the live commands inside the VM
    expect(r.stdout).toMatch(/# rebootless apply livepatch_cmdline\.ko\n(?: +.*\n)* +livepatch_cmdline: applied on /);
    expect(r.stdout).toMatch(/# cat \/proc\/cmdline\n +rebootless-patched console=ttyS0/);
    expect(r.stdout).toMatch(/# rebootless status livepatch_cmdline\n(?:.*\n)* +livepatch_cmdline: enabled\n +description: rebootless demo/);
    expect(r.stdout).toMatch(/# rebootless revert livepatch_cmdline\n(?: +.*\n)* +livepatch_cmdline: reverted;.*\n +# cat \/proc\/cmdline\n +console=ttyS0/);
    expect(r.stdout).toContain('reverted cleanly, without a reboot');
  });
});
