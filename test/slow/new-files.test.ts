import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { buildFixture, patchBuilder, tryModule } from '../helpers/build-and-try.js';
import { defaultWorkspace } from '../helpers/workspace.js';

// New .c files wired into a Makefile by the same diff: compiled with kbuild's
// flags for their list, carried as new code, and called from the patched
// functions of other files; the VM shows the new code running, then gone.

let ws: KernelWorkspace;
const { out, build } = patchBuilder('rb-newfiles-', () => ws.release);

beforeAll(async () => {
  ws = await defaultWorkspace();
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('new files', () => {
  it("a new file of vmlinux (proc-y): cmdline.c's patched show uses its function and its string; its static counts the reads", async () => {
    const b = await build(buildFixture('new-file-proc.patch'), 'new_file_proc');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/fs\/proc\/cmdline_note\.c \(vmlinux, a new file[^\n]*\n\s+carried\s+cmdline_note\n/);
    expect(b.stdout).toMatch(/patched\s+cmdline_proc_show/);
    const t = await tryModule(ws.release, b.ko, "for i in 1 2; do sed 's/.* rbl.nonce=[0-9a-f]*//' /proc/cmdline; done");
    // what follows the command line: nothing, then the new string and the new static's count going up, then nothing
    expect(t.step('check-before')).toBe('');
    const reads = /^\(noted\) \[read (\d+)\]\n \(noted\) \[read (\d+)\]$/.exec(t.step('check-patched'));
    expect(reads, t.step('check-patched')).not.toBeNull();
    expect(Number(reads?.[2])).toBe(Number(reads?.[1]) + 1);
    expect(t.step('check-after')).toBe('');
    expect(t.code).toBe(0);
  });

  it('a new file of a module (fat-y): fat_statfs calls it; statfs of a vfat mount follows, then goes back', async () => {
    const b = await build(buildFixture('new-file-fat.patch'), 'new_file_fat');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/fs\/fat\/rbl_fat\.c \(module fat, a new file[^\n]*\n\s+carried\s+rbl_fat_namelen\n/);
    const mods = ['vfat', 'loop', 'nls_cp437', 'nls_ascii'];
    const setup = `for m in ${mods.join(' ')}; do modprobe $m || exit 1; done; dd if=/dev/zero of=/tmp/f.img bs=1M count=40 2>/dev/null && mkdosfs /tmp/f.img >/dev/null && mkdir -p /mnt/f && mount -t vfat -o loop /tmp/f.img /mnt/f`;
    const t = await tryModule(ws.release, b.ko, 'stat -f -c %l /mnt/f', [...mods.flatMap((m) => ['--module', m]), '--setup', setup]);
    expect([t.step('check-before'), t.step('check-patched'), t.step('check-after')]).toEqual(['1530', '2530', '1530']);
    expect(t.code).toBe(0);
  });
});
