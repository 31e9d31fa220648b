import { tempDir } from '../../helpers/tmp.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';
import { fakeAptDir } from '../../helpers/fake-apt.js';

const saved = { ...process.env };
let cache: string;

beforeEach(() => {
  cache = tempDir('rb-cli-');
  process.env.REBOOTLESS_CACHE = cache;
});
afterEach(() => {
  process.env = { ...saved };
});

describe('cli', () => {
  it('prints help for every command and exits 0', async () => {
    for (const args of [['--help'], ['kernel', '--help'], ['kernel', 'fetch', '--help'], ['kernel', 'show', '--help'], ['doctor', '--help'], ['demo', '--help']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: rebootless/);
    }
  });

  it('prints its version', async () => {
    const r = await cli(['--version']);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 64 on a usage error, with a JSON error under --json', async () => {
    expect((await cli(['nonsense'])).code).toBe(64);
    const r = await cli(['kernel', 'show', '--json']);
    expect(r.code).toBe(64);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'USAGE', exitCode: 64 } });
  });

  it('explains a release that was never fetched, in text and JSON', async () => {
    const t = await cli(['kernel', 'show', '6.1.0-1-cloud-amd64']);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain("hint: run 'rebootless kernel fetch 6.1.0-1-cloud-amd64'");
    expect(t.stdout).toBe('');
    const j = await cli(['kernel', 'show', '6.1.0-1-cloud-amd64', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: 'RELEASE_NOT_FETCHED', data: { release: '6.1.0-1-cloud-amd64', cacheRoot: cache } } });
  });

  it('lists an empty cache', async () => {
    const r = await cli(['kernel', 'list', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({ cacheRoot: cache, releases: [] });
    expect((await cli(['kernel', 'list'])).stdout).toContain('rebootless kernel fetch');
  });

  it('refuses an unknown release, listing the fetchable ones, and leaves the cache untouched', async () => {
    process.env.PATH = `${fakeAptDir('exit 99')}:${saved.PATH ?? ''}`;
    const r = await cli(['kernel', 'fetch', '9.9.9-9-cloud-amd64', '--json']);
    expect(r.code).toBe(1);
    const err = (JSON.parse(r.stdout) as { error: { code: string; data: { available: string[] } } }).error;
    expect(err.code).toBe('RELEASE_UNKNOWN');
    expect(err.data.available.length).toBeGreaterThan(0);
    expect(existsSync(path.join(cache, 'kernels', '9.9.9-9-cloud-amd64'))).toBe(false);
  });

  it('reports an unreachable registry and leaves no trace of the release in the cache', async () => {
    process.env.PATH = `${fakeAptDir(`echo "E: Failed to fetch http://deb.debian.org/x.deb  Temporary failure resolving 'deb.debian.org'" >&2; exit 100`)}:${saved.PATH ?? ''}`;
    const r = await cli(['kernel', 'fetch', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'REGISTRY_UNREACHABLE' } });
    expect(readdirSync(path.join(cache, 'kernels'))).toEqual([]);
    const text = await cli(['kernel', 'fetch']);
    expect(text.stderr).toMatch(/could not be reached.*\n {2}hint: /);
  });

  it('kernel fetch --list: every family through its own apt state under the cache, as a table and as JSON', async () => {
    const fake = fakeAptDir('exit 99');
    process.env.PATH = `${fake}:${saved.PATH ?? ''}`;
    const r = await cli(['kernel', 'fetch', '--list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(['cached', 'debianVersion', 'family', 'flavor', 'host', 'release', 'series', 'suite']);
    expect([...new Set(rows.map((x) => x.family))]).toEqual(['bookworm', 'bookworm-backports', 'trixie']);
    expect(rows.find((x) => x.family === 'trixie')).toMatchObject({ flavor: 'cloud-amd64', series: '6.12', host: false, cached: false });
    expect(r.stderr).toMatch(/apt lists trixie: started \(trixie trixie-updates trixie-security\)/);
    // every apt call ran against a private configuration, one per family
    const calls = readFileSync(path.join(fake, 'calls.log'), 'utf8').trim().split('\n');
    for (const c of calls) expect(c).toMatch(new RegExp(`^${cache}/apt/(bookworm|bookworm-backports|trixie)/apt\\.conf `));
    expect(calls.filter((c) => c.includes('apt-get update'))).toHaveLength(3);
    expect(readFileSync(path.join(cache, 'apt', 'trixie', 'etc', 'sources.list'), 'utf8')).toContain('http://deb.debian.org/debian-security trixie-security main');

    // fresh lists are not updated again; the table has a row per release
    const text = await cli(['kernel', 'fetch', '--list']);
    expect(text.stdout.split('\n')[0]).toMatch(/^FAMILY +RELEASE +DEBIAN VERSION +SUITE$/);
    expect(text.stdout.trim().split('\n')).toHaveLength(rows.length + 1);
    expect(readFileSync(path.join(fake, 'calls.log'), 'utf8').match(/apt-get update/g)).toHaveLength(3);

    expect((await cli(['kernel', 'fetch', '6.1.0-57-cloud-amd64', '--list'])).code).toBe(64);
  });

  it('kernel fetch --list reports an archive it cannot reach', async () => {
    process.env.PATH = `${fakeAptDir('exit 99', `echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'" >&2; exit 100`)}:${saved.PATH ?? ''}`;
    const r = await cli(['kernel', 'fetch', '--list', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'REGISTRY_UNREACHABLE' } });
  });

  it('names releases that can be fetched when the one asked for is gone from the archive', async () => {
    process.env.PATH = `${fakeAptDir('exit 99')}:${saved.PATH ?? ''}`;
    const r = await cli(['kernel', 'fetch', '6.1.0-40-amd64']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown kernel release '6\.1\.0-40-amd64': Debian's bookworm suites do not have it; releases that can be fetched: 6\.1\.0-\d+-amd64, /);
    expect(r.stderr).toContain("'rebootless kernel fetch --list'");
  });

  it('doctor reports every requirement with found/missing and version', async () => {
    const r = await cli(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as { requirements: { name: string; found: boolean; version: string | null }[] };
    const names = report.requirements.map((q) => q.name);
    for (const n of ['gcc', 'make', 'flex', 'bison', 'bc', 'libelf-dev', 'libssl-dev', 'xz-utils', 'cpio', 'qemu-system-x86', 'busybox-static', 'apt-get', 'dpkg-deb']) {
      expect(names).toContain(n);
    }
    for (const q of report.requirements) expect(q.found ? typeof q.version : q.version).toBe(q.found ? 'string' : null);
    expect(r.code).toBe(report.requirements.every((q) => q.found) ? 0 : 1);
  });

  it('doctor --install as a non-root user prints the command to run', async () => {
    // a package that is certainly not installed makes --install do something
    process.env.PATH = `${fakeAptDir('exit 0')}:${saved.PATH ?? ''}`;
    const { installPackages } = await import('../../../src/kernel/requirements.js');
    await expect(installPackages(['flex'], false)).rejects.toMatchObject({
      code: 'NOT_ROOT',
      hint: expect.stringContaining('apt-get install -y --no-install-recommends flex') as unknown as string,
    });
  });
});
