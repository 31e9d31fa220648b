import { tempDir } from '../../helpers/tmp.js';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addKernel } from '../../../src/kernel/add.js';
import { verifyTree } from '../../../src/kernel/tree-verify.js';
import { loadWorkspace } from '../../../src/kernel/workspace.js';

// A fake in-tree build: the files `kernel add` needs, empty.
function buildDir(skip: string[] = []): string {
  const dir = tempDir('rb-add-');
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
    const cache = tempDir('rb-add-cache-');
    const dir = buildDir();
    const ws = await addKernel({ cacheRoot: cache, name: 'mine', buildDir: dir });
    expect(ws).toMatchObject({ release: '6.18.0-rc1-mine+', cc: 'gcc-12', flavor: 'custom' });
    expect(readlinkSync(path.join(cache, 'kernels/mine/build'))).toBe(dir);
    const back = await loadWorkspace(cache, 'mine');
    expect(back.vmlinux).toBe(path.join(cache, 'kernels/mine/build/vmlinux'));
    expect(back.release).toBe('6.18.0-rc1-mine+');
    await expect(addKernel({ cacheRoot: cache, name: 'mine', buildDir: dir })).rejects.toMatchObject({ code: 'KERNEL_ADD_INVALID' });
  });

  it("records the build directory's content manifest, which verify checks it against", async () => {
    const cache = tempDir('rb-add-cache-');
    const dir = buildDir();
    await addKernel({ cacheRoot: cache, name: 'mine', buildDir: dir });
    const ws = await loadWorkspace(cache, 'mine');
    expect(ws.treeManifest).toBe(path.join(cache, 'kernels/mine/tree-manifest'));
    expect(readFileSync(ws.treeManifest as string, 'utf8')).toContain('\tinclude/config/kernel.release\n');
    expect(await verifyTree(ws)).toMatchObject({ ok: true, registered: true, name: 'mine', tree: dir, files: 7 });
    writeFileSync(path.join(dir, 'vmlinux.o'), 'x');
    expect(await verifyTree(ws)).toMatchObject({ ok: false, added: { count: 1, first: ['vmlinux.o'] } });
  });

  it('registers again a kernel added by an older rebootless (no content manifest), never a fetched release', async () => {
    const cache = tempDir('rb-add-cache-');
    const dir = buildDir();
    const old = path.join(cache, 'kernels/mine');
    mkdirSync(old, { recursive: true });
    writeFileSync(path.join(old, 'manifest.json'), JSON.stringify({ schema: 3, release: 'r', debianVersion: 'custom' }));
    await addKernel({ cacheRoot: cache, name: 'mine', buildDir: dir });
    expect(existsSync(path.join(old, 'tree-manifest'))).toBe(true);
    const fetched = path.join(cache, 'kernels/6.1.0-9-cloud-amd64');
    mkdirSync(fetched, { recursive: true });
    writeFileSync(path.join(fetched, 'manifest.json'), JSON.stringify({ schema: 3, release: '6.1.0-9-cloud-amd64', debianVersion: '6.1.50-1' }));
    await expect(addKernel({ cacheRoot: cache, name: '6.1.0-9-cloud-amd64', buildDir: dir })).rejects.toMatchObject({ code: 'KERNEL_ADD_INVALID' });
    expect(existsSync(path.join(fetched, 'manifest.json'))).toBe(true);
  });

  it('names what an unfinished build lacks, and refuses bad names and out-of-tree builds', async () => {
    const cache = tempDir('rb-add-cache-');
    await expect(addKernel({ cacheRoot: cache, name: 'x', buildDir: buildDir(['vmlinux', 'Module.symvers']) })).rejects.toMatchObject({
      code: 'KERNEL_ADD_INCOMPLETE',
      data: { missing: ['vmlinux', 'Module.symvers'] },
    });
    await expect(addKernel({ cacheRoot: cache, name: '../x', buildDir: buildDir() })).rejects.toMatchObject({ code: 'KERNEL_ADD_INVALID' });
    await expect(addKernel({ cacheRoot: cache, name: 'y', buildDir: buildDir(), source: os.tmpdir() })).rejects.toMatchObject({ code: 'KERNEL_ADD_INVALID' });
  });
});
