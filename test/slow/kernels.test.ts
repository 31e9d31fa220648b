import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRelease } from '../../src/kernel/fetch.js';
import { listFetchableReleases, type FetchableRelease } from '../../src/kernel/fetchable.js';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { silentProgress } from '../../src/util/progress.js';
import { tryModule } from '../helpers/build-and-try.js';
import { runCliProcess } from '../helpers/run-cli.js';
import { copyPreparedTree, defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// The kernels hosts really run, chosen from Debian's archive as it is today
// (never hard-coded): an older bookworm ABI of the plain amd64 flavour (its
// linux-kbuild package is long gone from the archive), bookworm-backports'
// 6.12 (gcc-12, on the host), and trixie's 6.12 (gcc-14, through a build
// root: this host has none). Each builds examples/cmdline.patch, which the
// VM shows patched and then original; on trixie the live commands run by
// rebootless inside the 6.12 guest.

const cache = sharedCache();
const env = (): NodeJS.ProcessEnv => ({ REBOOTLESS_CACHE: cache });
const PATCH = 'examples/cmdline.patch';
const MARK = 'rebootless-patched ';

let releases: FetchableRelease[] = [];
const out = mkdtempSync(path.join(os.tmpdir(), 'rb-kernels-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

beforeAll(async () => {
  releases = await listFetchableReleases({ cacheRoot: cache, progress: silentProgress, hostRelease: '' });
}, 300_000);

function pick(what: string, ok: (r: FetchableRelease) => boolean, nth = 0): FetchableRelease {
  const r = releases.filter(ok)[nth];
  if (!r) throw new Error(`the archive serves no ${what} today`);
  return r;
}

async function workspace(r: FetchableRelease): Promise<KernelWorkspace> {
  return (await fetchRelease({ cacheRoot: cache, requested: r.release, progress: silentProgress })).workspace;
}

async function buildAndProve(r: FetchableRelease): Promise<{ ws: KernelWorkspace; ko: string }> {
  const ws = await workspace(r);
  const ko = path.join(out, `${r.release}.ko`);
  const built = await runCliProcess(['build', PATCH, '--kernel', r.release, '--name', 'cmdline', '-o', ko], env());
  expect(built.code, built.stderr).toBe(0);
  const tried = await tryModule(r.release, ko, 'cat /proc/cmdline; uname -r');
  expect(tried.code, JSON.stringify(tried.report.steps)).toBe(0);
  expect(tried.step('check-before')).not.toContain(MARK);
  expect(tried.step('check-patched').startsWith(MARK)).toBe(true);
  expect(tried.step('check-patched')).toContain(r.release);
  expect(tried.step('check-after')).not.toContain(MARK);
  return { ws, ko };
}

describe('kernels beyond the newest bookworm cloud release', () => {
  it('an older bookworm ABI of the amd64 flavour', async () => {
    const r = pick('older bookworm 6.1 amd64 ABI', (x) => x.family === 'bookworm' && x.series === '6.1' && x.flavor === 'amd64', 1);
    const { ws } = await buildAndProve(r);
    expect(ws.flavor).toBe('amd64');
    expect(ws.packages.map((p) => p.name)).not.toContain('linux-kbuild-6.1');
  });

  it("bookworm-backports' 6.12, built with the host's gcc-12", async () => {
    const r = pick('bookworm-backports 6.12 cloud-amd64', (x) => x.family === 'bookworm-backports' && x.flavor === 'cloud-amd64');
    const { ws } = await buildAndProve(r);
    expect(ws.buildRoot).toBeUndefined();
  });

  it("trixie's 6.12 through a build root, and the live commands inside its guest", async () => {
    const r = pick('trixie 6.12 cloud-amd64', (x) => x.family === 'trixie' && x.flavor === 'cloud-amd64');
    const { ws, ko } = await buildAndProve(r);
    expect(ws.buildRoot).toBeDefined();
    expect(ws.compiler).toMatch(/gcc-14/);
    const shown = JSON.parse((await runCliProcess(['kernel', 'show', r.release, '--json'], env())).stdout) as { suite: string; toolchain: string };
    expect(shown).toMatchObject({ suite: 'trixie', toolchain: 'build root (trixie)' });
    const live = await runCliProcess(
      [
        'vm', 'run', '--kernel', r.release, '--with-cli', '--file', ko, '--',
        `cd /root && rebootless apply ${r.release}.ko && cat /proc/cmdline && rebootless status --json && rebootless revert livepatch_cmdline && cat /proc/cmdline`,
      ],
      env(),
    );
    expect(live.code, live.stdout + live.stderr).toBe(0);
    const lines = live.stdout.split('\n');
    expect(lines.some((l) => l.startsWith(MARK))).toBe(true);
    expect(live.stdout).toMatch(/"name": "livepatch_cmdline"[\s\S]*"state": "enabled"/);
    expect(live.stdout).toMatch(/livepatch_cmdline: reverted/);
    expect(lines.filter((l) => l.includes('rbl.nonce=')).at(-1)?.startsWith(MARK)).toBe(false);
  });

  it('a kernel built elsewhere, registered with kernel add (here: a copy of a workspace\'s own prepared tree)', async () => {
    const ws = await defaultWorkspace();
    // an in-tree build directory as a user would have it, hard-linked from the workspace (never written)
    const tree = path.join(out, 'my-build');
    await copyPreparedTree(ws, tree);
    const name = `mine-${path.basename(out)}`;
    const added = await runCliProcess(['kernel', 'add', name, '--build-dir', tree, '--vmlinuz', ws.vmlinuz, '--modules', ws.modulesDir, '--json'], env());
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ release: ws.release, flavor: 'custom', toolchain: 'host' });
    const ko = path.join(out, 'mine.ko');
    const built = await runCliProcess(['build', PATCH, '--kernel', name, '--name', 'cmdline', '-o', ko], env());
    expect(built.code, built.stderr).toBe(0);
    const tried = await tryModule(name, ko, 'cat /proc/cmdline');
    expect(tried.code, JSON.stringify(tried.report.steps)).toBe(0);
    expect(tried.step('check-patched').startsWith(MARK)).toBe(true);
    expect(tried.step('check-after')).not.toContain(MARK);
    rmSync(path.join(cache, 'kernels', name), { recursive: true, force: true });
  });
});
