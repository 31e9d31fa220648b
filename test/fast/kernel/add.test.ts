import { mkdirSync, mkdtempSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addKernel } from '../../../src/kernel/add.js';
import { loadWorkspace } from '../../../src/kernel/workspace.js';

// A fake in-tree build: the files `kernel add` needs, empty.
function buildDir(skip: string[] = []): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-add-'));
  mkdirSync(path.join(dir, 'include/config'), { recursive: true });
  mkdirSync(path.join(dir, 'arch/x86/boot'), { recursive: true });
  const files: Record<string, string> = {
    vmlinux: '',
    '.config': 'CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"\n',
    'Module.symvers': '',
    'System.map': '',
    Makefile: '',
    'include/config/kernel.release': '6.18.0-rc1-mine+\n',
    'arch/x86/boot/bzImage': '',
  };
  for (const [f, text] of Object.entries(files)) if (!skip.includes(f)) writeFileSync(path.join(dir, f), text);
  return dir;
}

describe('kernel add', () => {
  it('registers an in-tree build under a name: its release, compiler and files, linked not copied', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'rb-add-cache-'));
    const dir = buildDir();
    const ws = await addKernel({ cacheRoot: cache, name: 'mine', buildDir: dir });
    expect(ws).toMatchObject({ release: '6.18.0-rc1-mine+', cc: 'gcc-12', flavor: 'custom' });
    expect(readlinkSync(path.join(cache, 'kernels/mine/build'))).toBe(dir);
    const back = await loadWorkspace(cache, 'mine');
    expect(back.vmlinux).toBe(path.join(cache, 'kernels/mine/build/vmlinux'));
    expect(back.release).toBe('6.18.0-rc1-mine+');
    await expect(addKernel({ cacheRoot: cache, name: 'mine', buildDir: dir })).rejects.toMatchObject({ code: 'KERNEL_ADD_INVALID' });
  });

  it('names what an unfinished build lacks, and refuses bad names and out-of-tree builds', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'rb-add-cache-'));
    await expect(addKernel({ cacheRoot: cache, name: 'x', buildDir: buildDir(['vmlinux', 'Module.symvers']) })).rejects.toMatchObject({
      code: 'KERNEL_ADD_INCOMPLETE',
      data: { missing: ['vmlinux', 'Module.symvers'] },
    });
    await expect(addKernel({ cacheRoot: cache, name: '../x', buildDir: buildDir() })).rejects.toMatchObject({ code: 'KERNEL_ADD_INVALID' });
    await expect(addKernel({ cacheRoot: cache, name: 'y', buildDir: buildDir(), source: os.tmpdir() })).rejects.toMatchObject({ code: 'KERNEL_ADD_INVALID' });
  });
});
