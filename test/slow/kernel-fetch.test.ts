import { execFileSync } from 'node:child_process';
import { kbuildVariables } from '../../src/kernel/kbuild-vars.js';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseDir } from '../../src/kernel/cache.js';
import { readManifest } from '../../src/kernel/manifest.js';
import { verifyTree } from '../../src/kernel/tree-verify.js';
import { compileSource, workspaceCompiler } from '../../src/kbuild/compile.js';
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

  it("fs/proc/cmdline.o compiles with kbuild's recorded command outside the tree, and the tree is still as fetched", async () => {
    const ws = await readManifest(releaseDir(cache, release));
    if (!ws) throw new Error('no workspace');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-unit-'));
    const obj = await compileSource(workspaceCompiler(ws), 'fs/proc/cmdline.c', dir);
    const syms = execFileSync('readelf', ['-sW', obj]).toString();
    expect(syms).toMatch(/FUNC +LOCAL +DEFAULT +\d+ cmdline_proc_show/);
    expect(execFileSync('readelf', ['-SW', obj]).toString()).toContain('.text.cmdline_proc_show');
    expect(existsSync(path.join(ws.sourceTree, 'fs/proc/cmdline.o'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
    expect((await verifyTree(ws, { full: true })).ok).toBe(true);
  });

  it('the prepared tree builds an external module whose vermagic is the release, and stays untouched', async () => {
    const ws = await readManifest(releaseDir(cache, release));
    if (!ws) throw new Error('no workspace');
    const mod = mkdtempSync(path.join(os.tmpdir(), 'rb-mod-'));
    writeFileSync(path.join(mod, 'hello.c'), '#include <linux/module.h>\nstatic int __init hello_init(void) { return 0; }\nmodule_init(hello_init);\nMODULE_LICENSE("GPL");\n');
    writeFileSync(path.join(mod, 'Kbuild'), 'obj-m := hello.o\n');
    const stamp = path.join(mod, 'stamp');
    writeFileSync(stamp, '');
    execFileSync('make', ['-C', ws.sourceTree, `M=${mod}`, ...kbuildVariables(ws), 'modules'], { stdio: 'pipe' });
    // builds only read this tree: an external module build must write nothing in it
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

// `kernel fetch --list` against the real archive, through rebootless's own apt
// state in a fresh cache: package lists only, no kernel is downloaded.
describe('kernel fetch --list (real Debian archive)', () => {
  const listCache = mkdtempSync(path.join(os.tmpdir(), 'rb-list-'));
  afterAll(() => rmSync(listCache, { recursive: true, force: true }));

  /** Every file and directory under the host's apt configuration and lists, with mtime and size. */
  function hostAptState(): string[] {
    const out: string[] = [];
    const walk = (p: string): void => {
      let st;
      try {
        st = lstatSync(p);
      } catch {
        return;
      }
      out.push(`${p} ${st.mtimeMs} ${st.size}`);
      if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(path.join(p, n));
    };
    for (const root of ['/etc/apt', '/var/lib/apt/lists', '/var/cache/apt/pkgcache.bin', '/var/cache/apt/srcpkgcache.bin']) walk(root);
    return out;
  }

  it('lists complete bookworm 6.1, bookworm-backports 6.12+deb12 and trixie 6.12+deb13 releases, leaving the host apt state alone', async () => {
    const before = hostAptState();
    const r = await runCliProcess(['kernel', 'fetch', '--list', '--json'], { REBOOTLESS_CACHE: listCache });
    expect(r.code, r.stderr).toBe(0);
    expect(hostAptState()).toEqual(before);
    for (const f of ['bookworm', 'bookworm-backports', 'trixie']) expect(r.stderr).toContain(`apt lists ${f}: done`);
    expect(readdirSync(path.join(listCache, 'apt')).sort()).toEqual(['bookworm', 'bookworm-backports', 'trixie']);

    type Row = { release: string; family: string; suite: string; flavor: string; debianVersion: string; series: string; host: boolean; cached: boolean };
    const rows = JSON.parse(r.stdout) as Row[];
    const pick = (family: string, re: RegExp): Row => {
      const row = rows.find((x) => x.family === family && x.flavor === 'cloud-amd64' && re.test(x.release));
      expect(row, `${family} ${re}`).toBeDefined();
      return row as Row;
    };
    const picked = [
      pick('bookworm', /^6\.1\.0-\d+-cloud-amd64$/),
      pick('bookworm-backports', /^6\.12\.\d+\+deb12-cloud-amd64$/),
      pick('trixie', /^6\.12\.\d+\+deb13(\.\d+)?-cloud-amd64$/),
    ];
    expect(picked.map((x) => x.series)).toEqual(['6.1', '6.12', '6.12']);
    for (const f of ['cloud-amd64', 'amd64', 'rt-amd64']) expect(rows.some((x) => x.family === 'trixie' && x.flavor === f), f).toBe(true);

    // complete, asked independently of rebootless's index: apt-cache madison over the family's private lists
    for (const row of picked) {
      const env = { ...process.env, APT_CONFIG: path.join(listCache, 'apt', row.family, 'apt.conf') };
      const pkgs = [`linux-image-${row.release}`, `linux-headers-${row.release}`, `linux-image-${row.release}-dbg`, `linux-source-${row.series}`];
      const madison = execFileSync('apt-cache', ['madison', ...pkgs], { env }).toString();
      for (const p of pkgs) expect(madison, `${p} ${row.debianVersion}`).toMatch(new RegExp(`^ *${p.replace(/[+.]/g, '\\$&')} \\| *${row.debianVersion.replace(/[+.~]/g, '\\$&')} \\|`, 'm'));
    }
  });
});
