import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { Vm } from '../../src/vm/session.js';
import { buildFixture, patchBuilder, tryModule } from '../helpers/build-and-try.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// Header changes against the release: only the units a header change
// reaches are compiled, each with the patched header, and the VM shows every
// patched caller following the new inline code, then the old again.

let ws: KernelWorkspace;
const { out, build } = patchBuilder('rb-headers-', () => ws.release);

beforeAll(async () => {
  ws = await defaultWorkspace();
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('header changes', () => {
  it('a changed static inline (timens_add_boottime) patches exactly the built units that inline it; /proc/uptime and sysinfo follow, then go back', async () => {
    const b = await build(buildFixture('header-inline.patch'), 'header_inline');
    expect(b.code, b.stderr).toBe(0);
    // the built users of the inline, and nothing else: posix-stubs.c mentions it but this configuration does not build it
    for (const [unit, fn] of [
      ['fs/proc/uptime.c', 'uptime_proc_show'],
      ['kernel/sys.c', 'do_sysinfo'],
      ['kernel/time/posix-timers.c', 'posix_get_boottime_timespec'],
      ['kernel/time/alarmtimer.c', 'get_boottime_timespec'],
    ]) {
      expect(b.stdout).toMatch(new RegExp(`${unit} \\(vmlinux\\):\\n\\s+patched\\s+${fn}`));
    }
    expect(b.stdout).not.toContain('posix-stubs');
    expect(b.stdout).toMatch(/headers\s+include\/linux\/time_namespace\.h: 1 definition followed; 5 sources considered, 4 built units compiled, 4 changed/);
    // /proc/uptime (uptime_proc_show) and busybox uptime (sysinfo, do_sysinfo): seconds since boot
    const check = 'cut -d. -f1 /proc/uptime; uptime | grep -c "up [0-9]* day" || true';
    const t = await tryModule(ws.release, b.ko, check);
    expect(t.code, JSON.stringify(t.report.steps)).toBe(0);
    const [before, beforeDays] = t.step('check-before').split('\n');
    expect(Number(before)).toBeLessThan(100_000);
    expect(beforeDays).toBe('0');
    const [during, duringDays] = t.step('check-patched').split('\n');
    expect(Number(during)).toBeGreaterThanOrEqual(1_000_000);
    expect(duringDays).toBe('1');
    const [after, afterDays] = t.step('check-after').split('\n');
    expect(Number(after)).toBeLessThan(100_000);
    expect(afterDays).toBe('0');
  });

  it('several files with a header in the mix: one vmlinux .c, one module .c and a header reaching four vmlinux units, one module with a klp object per target; each change shows in the guest, then goes', async () => {
    const b = await build(buildFixture('header-several-files.patch'), 'header_several');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/fs\/fat\/inode\.c \(module fat\):\n\s+patched\s+init_once,2/);
    expect(b.stdout).toMatch(/fs\/proc\/cmdline\.c \(vmlinux\):\n\s+patched\s+cmdline_proc_show/);
    expect(b.stdout).toMatch(/fs\/proc\/uptime\.c \(vmlinux\):\n\s+patched\s+uptime_proc_show/);
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache(), modules: ['vfat', 'loop', 'nls_cp437', 'nls_ascii'] });
    try {
      await vm.copyIn(b.ko, '/root/several.ko');
      const run = async (cmd: string): Promise<string> => {
        const r = await vm.run(cmd, { timeoutMs: 240_000 });
        expect(r.exitCode, r.output).toBe(0);
        return r.output.trim();
      };
      await run('for m in vfat loop nls_cp437 nls_ascii; do modprobe $m || exit 1; done');
      const show = 'cut -d" " -f1 /proc/cmdline; cut -d. -f1 /proc/uptime';
      const [cmdBefore, upBefore] = (await run(show)).split('\n');
      expect(cmdBefore).toBe('console=ttyS0');
      expect(Number(upBefore)).toBeLessThan(100_000);
      const dir = '/sys/kernel/livepatch/livepatch_header_several';
      await run(`insmod /root/several.ko && for i in $(seq 300); do grep -qs 0 ${dir}/transition && break; sleep 0.2; done; grep -q 0 ${dir}/transition`);
      const [cmdDuring, upDuring] = (await run(show)).split('\n');
      expect(cmdDuring).toBe('rebootless-several');
      expect(Number(upDuring)).toBeGreaterThanOrEqual(1_000_000);
      // the first fat inode ever allocated runs the slab constructor: fat.ko's patched one
      const fat = await run('dd if=/dev/zero of=/tmp/fat.img bs=1M count=40 2>/dev/null && mkdosfs /tmp/fat.img >/dev/null && mkdir -p /mnt && mount -o loop -t vfat /tmp/fat.img /mnt && touch /mnt/a && umount /mnt && dmesg | grep -c "rebootless: fat inode constructed"');
      expect(Number(fat)).toBeGreaterThan(0);
      await run(`echo 0 > ${dir}/enabled && for i in $(seq 300); do [ -d ${dir} ] || break; sleep 0.2; done; [ ! -d ${dir} ] && rmmod livepatch_header_several`);
      const [cmdAfter, upAfter] = (await run(show)).split('\n');
      expect(cmdAfter).toBe('console=ttyS0');
      expect(Number(upAfter)).toBeLessThan(100_000);
    } finally {
      expect((await vm.stop()).trouble).toEqual([]);
    }
  });

  it('a member added in the middle of a struct is refused as LAYOUT_CHANGED, naming the struct, the member and the units using it', async () => {
    const b = await build(buildFixture('header-layout.patch'), 'header_layout');
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('include/linux/time_namespace.h:14: the patch changes the layout of struct timens_offsets (struct timespec64 realtime)');
    expect(b.stderr).toMatch(/2 built unit\(s\) use it: fs\/proc\/base\.c, kernel\/time\/namespace\.c/);
    expect(b.stderr).toContain('shadow variable');
  });

  it("a macro that sizes a struct's member (BINPRM_BUF_SIZE in a uapi header) is LAYOUT_CHANGED too, naming the units that use the struct", async () => {
    const b = await build(buildFixture('header-layout-macro.patch'), 'header_layout_macro');
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('include/linux/binfmts.h:18: the patch changes the layout of struct linux_binprm (uses BINPRM_BUF_SIZE)');
    // the struct's users, found as the members' path finds them: kernel/auditsc.c never names the macro
    const units = /(\d+) built unit\(s\) use it: ([^\n]*)/.exec(b.stderr);
    expect(units?.[2]).toMatch(/^arch\/x86\/entry\/vdso\/vma\.c, fs\/binfmt_elf\.c, fs\/binfmt_misc\.c, fs\/binfmt_script\.c, fs\/exec\.c, kernel\/auditsc\.c, /);
    expect(Number(units?.[1])).toBeGreaterThan(8);
  });
});
