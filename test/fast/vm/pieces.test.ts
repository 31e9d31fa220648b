import { tempDir } from '../../helpers/tmp.js';
import { chmodSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpioHeader } from '../../../src/vm/cpio.js';
import { agentScript, copyInScript } from '../../../src/vm/guest-scripts.js';
import { parseLdd } from '../../../src/vm/initramfs.js';
import { qemuArgs } from '../../../src/vm/qemu.js';
import { parseFileSpec } from '../../../src/vm/run.js';
import { partialMarkerLength, Vm } from '../../../src/vm/session.js';
import type { KernelWorkspace } from '../../../src/kernel/manifest.js';

describe('vm pieces', () => {
  it('writes newc cpio headers', () => {
    const h = cpioHeader('bin/sh', 0o120777, 12, 5);
    expect(h.subarray(0, 6).toString()).toBe('070701');
    expect(h.length % 4).toBe(0);
    const fields = h.subarray(6, 110).toString().match(/.{8}/g)?.map((x) => parseInt(x, 16)) ?? [];
    expect(fields[0]).toBe(5); // ino
    expect(fields[1]).toBe(0o120777); // mode
    expect(fields[6]).toBe(12); // size
    expect(fields[11]).toBe('bin/sh'.length + 1); // name size with NUL
    expect(h.subarray(110, 117).toString()).toBe('bin/sh\0');
  });

  it('parses ldd output into library paths', () => {
    const ldd = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n';
    expect(parseLdd(ldd)).toEqual(['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });

  it('boots with a console on ttyS0, the agent on ttyS1 and a data port', () => {
    const a = qemuArgs({ kernel: 'K', initrd: 'I', agentSocket: '/s/a', dataSocket: '/s/d', memoryMb: 512, cpus: 2, nonce: 'ab12', kvm: false });
    const append = a[a.indexOf('-append') + 1] ?? '';
    expect(append).toContain('console=ttyS0');
    expect(append).toContain('rbl.nonce=ab12');
    expect(append).toContain('panic=-1');
    // emulated with one host thread for all vCPUs (multi-threaded TCG races cross-modifying code)
    expect(a.slice(a.indexOf('-accel'), a.indexOf('-accel') + 2)).toEqual(['-accel', 'tcg,thread=single']);
    // emulated: no cmpxchg16b (QEMU 7.2's TCG breaks 6.12's SLUB with it); KVM: the host's CPU
    expect(a.slice(a.indexOf('-cpu'), a.indexOf('-cpu') + 2)).toEqual(['-cpu', 'qemu64,-cx16']);
    const k = qemuArgs({ kernel: 'K', initrd: 'I', agentSocket: '/s/a', dataSocket: '/s/d', memoryMb: 512, cpus: 2, nonce: 'ab12', kvm: true });
    expect(k.slice(k.indexOf('-cpu'), k.indexOf('-cpu') + 2)).toEqual(['-cpu', 'host']);
    expect(a.join(' ')).toContain('socket,id=agent,path=/s/a,server=on,wait=off');
    expect(a.join(' ')).toContain('name=rbl.data');
    expect(a).toContain('-no-reboot');
  });

  it('frames agent output with a nonce marker and copies files in through base64 as a fallback', () => {
    expect(agentScript()).toContain("printf '\\036RBL-END %s %s %s\\036' \"$nonce\"");
    const s = copyInScript("/tmp/it's", 0o644, 'QUJD');
    expect(s).toContain("base64 -d > '/tmp/it'\\''s'");
    expect(s).toContain('chmod 644');
  });

  it('holds back only output that could start an end marker', () => {
    const m = Buffer.from('\x1eRBL-END abc ');
    expect(partialMarkerLength(Buffer.from('started\n'), m)).toBe(0);
    expect(partialMarkerLength(Buffer.from('out\x1eRBL'), m)).toBe(4);
    expect(partialMarkerLength(Buffer.from('x\x1e'), m)).toBe(1);
  });

  it('parses --file HOST[:GUEST]', () => {
    expect(parseFileSpec('/a/b.ko')).toEqual({ host: '/a/b.ko', guest: '/root/b.ko' });
    expect(parseFileSpec('x.ko:/lib/x.ko')).toEqual({ host: 'x.ko', guest: '/lib/x.ko' });
    expect(() => parseFileSpec(':/x')).toThrowError(/HOST\[:GUEST\]/);
  });

  it('asks for doctor --install when QEMU is missing', async () => {
    const bin = tempDir('rb-noqemu-');
    symlinkSync('/bin/sh', path.join(bin, 'sh'));
    chmodSync(bin, 0o755);
    const saved = process.env.PATH;
    process.env.PATH = bin;
    try {
      await expect(Vm.start({ workspace: {} as KernelWorkspace, cacheRoot: bin })).rejects.toMatchObject({
        code: 'TOOL_MISSING',
        hint: expect.stringContaining('rebootless doctor --install') as unknown as string,
      });
    } finally {
      process.env.PATH = saved;
    }
  });
});
