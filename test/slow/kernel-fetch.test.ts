import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseDir } from '../../src/kernel/cache.js';
import { readManifest } from '../../src/kernel/manifest.js';
import { finish, runCliProcess, spawnCli } from '../helpers/run-cli.js';
import { sharedCache } from '../helpers/workspace.js';

// A real cold fetch of the default release, interrupted with kill -9 in an
// output stage and again in the in-place prepare stage, then completed.

const cache = mkdtempSync(path.join(os.tmpdir(), 'rb-fetch-'));
const env = { REBOOTLESS_CACHE: cache };
let release = '';

async function killDuring(stage: string): Promise<string> {
  const child = spawnCli(['kernel', 'fetch'], env);
  let killed = false;
  const done = await finish(child, (err) => {
    if (!killed && err.includes(`${stage}: started`)) {
      killed = true;
      // let the stage write something first
      setTimeout(() => child.kill('SIGKILL'), 1500);
    }
  });
  expect(done.signal, done.stderr).toBe('SIGKILL');
  return done.stderr;
}

afterAll(() => {
  // Hand the finished workspace to the other slow tests of this run.
  const dir = release && releaseDir(cache, release);
  if (dir && existsSync(path.join(dir, 'manifest.json')) && !existsSync(releaseDir(sharedCache(), release))) {
    mkdirSync(path.dirname(releaseDir(sharedCache(), release)), { recursive: true });
    renameSync(dir, releaseDir(sharedCache(), release));
  }
  rmSync(cache, { recursive: true, force: true });
});

describe('kernel fetch (real Debian packages)', () => {
  it('survives kill -9 in the source stage and in the prepare stage, then completes', async () => {
    const first = await killDuring('source');
    expect(first).toMatch(/download: done/);
    const kernels = path.join(cache, 'kernels');
    release = readdirSync(kernels).find((n) => !n.endsWith('.lock')) ?? '';
    expect(release).toMatch(/-cloud-amd64$/);
    const dir = releaseDir(cache, release);
    expect(existsSync(path.join(dir, 'manifest.json'))).toBe(false);
    expect(readdirSync(dir).some((n) => n.startsWith('source.partial-'))).toBe(true);

    const second = await killDuring('prepare');
    expect(second).toMatch(/image: already done/);
    expect(second).toMatch(/source: done/);
    expect(readdirSync(dir).some((n) => n.includes('.partial-'))).toBe(false);

    const third = await runCliProcess(['kernel', 'fetch', '--json'], env);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/source: already done/);
    expect(third.stderr).toMatch(/prepare: done/);
    const out = JSON.parse(third.stdout) as { release: string; cached: boolean };
    expect(out).toMatchObject({ release, cached: false });
    expect(existsSync(path.join(dir, 'debs'))).toBe(false);
  });

  it('kernel show --json names files that all exist', async () => {
    const r = await runCliProcess(['kernel', 'show', release, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const ws = JSON.parse(r.stdout) as Record<string, string>;
    for (const k of ['vmlinuz', 'vmlinux', 'systemMap', 'config', 'moduleSymvers', 'sourceTree', 'modulesDir']) {
      expect(existsSync(ws[k] as string), `${k} ${ws[k]}`).toBe(true);
    }
    expect(ws).toMatchObject({ release, flavor: 'cloud-amd64' });
    expect(ws.compiler).toMatch(/^gcc/);
    expect(execFileSync('readelf', ['-h', ws.vmlinux as string]).toString()).toMatch(/Type:\s+EXEC/);
    expect(execFileSync('grep', ['-c', ' [tT] cmdline_proc_show$', ws.systemMap as string]).toString().trim()).toBe('1');
  });

  it('a second fetch is a cache hit that runs no stage', async () => {
    const r = await runCliProcess(['kernel', 'fetch', release, '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ release, cached: true, stages: [] });
    const list = await runCliProcess(['kernel', 'list', '--json'], env);
    expect(JSON.parse(list.stdout)).toMatchObject({ releases: [{ release, state: 'ready' }] });
  });

  it('make fs/proc/cmdline.o succeeds in a hard-link snapshot of the prepared tree, leaving the tree untouched', async () => {
    const ws = await readManifest(releaseDir(cache, release));
    if (!ws) throw new Error('no workspace');
    const snap = path.join(mkdtempSync(path.join(os.tmpdir(), 'rb-snap-')), 'tree');
    execFileSync('cp', ['-al', ws.sourceTree, snap]);
    execFileSync('make', ['-C', snap, `CC=${ws.cc}`, 'fs/proc/cmdline.o', 'KCFLAGS=-ffunction-sections -fdata-sections'], { stdio: 'pipe' });
    const syms = execFileSync('readelf', ['-sW', path.join(snap, 'fs/proc/cmdline.o')]).toString();
    expect(syms).toMatch(/FUNC +LOCAL +DEFAULT +\d+ cmdline_proc_show/);
    expect(execFileSync('readelf', ['-SW', path.join(snap, 'fs/proc/cmdline.o')]).toString()).toContain('.text.cmdline_proc_show');
    expect(existsSync(path.join(ws.sourceTree, 'fs/proc/cmdline.o'))).toBe(false);
    rmSync(path.dirname(snap), { recursive: true, force: true });
  });

  it('the prepared tree builds an external module whose vermagic is the release, and stays untouched', async () => {
    const ws = await readManifest(releaseDir(cache, release));
    if (!ws) throw new Error('no workspace');
    const mod = mkdtempSync(path.join(os.tmpdir(), 'rb-mod-'));
    writeFileSync(path.join(mod, 'hello.c'), '#include <linux/module.h>\nstatic int __init hello_init(void) { return 0; }\nmodule_init(hello_init);\nMODULE_LICENSE("GPL");\n');
    writeFileSync(path.join(mod, 'Kbuild'), 'obj-m := hello.o\n');
    const stamp = path.join(mod, 'stamp');
    writeFileSync(stamp, '');
    execFileSync('make', ['-C', ws.sourceTree, `M=${mod}`, `CC=${ws.cc}`, 'modules'], { stdio: 'pipe' });
    // the build snapshots hard-link this tree: an external module build must write nothing in it
    expect(execFileSync('find', [ws.sourceTree, '-newer', stamp, '-not', '-type', 'd']).toString()).toBe('');
    const modinfo = execFileSync('readelf', ['-p', '.modinfo', path.join(mod, 'hello.ko')]).toString();
    expect(modinfo).toContain(`vermagic=${release} `);
    rmSync(mod, { recursive: true, force: true });
  });

  it('doctor checks the host compiler against the fetched release', async () => {
    const r = await runCliProcess(['doctor', '--json'], env);
    const report = JSON.parse(r.stdout) as { compilers: { release: string; matches: boolean; expected: string; found: string }[] };
    const c = report.compilers.find((x) => x.release === release);
    expect(c).toBeDefined();
    expect(c?.matches, `${c?.expected} vs ${c?.found}`).toBe(true);
  });
});
