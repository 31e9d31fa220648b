import { mkdtempSync, rmSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RebootlessError } from '../../../src/errors/index.js';
import {
  BUILD_ROOT_MANIFEST,
  bootstrapFailure,
  buildRootDir,
  ensureBuildRoot,
  mmdebstrapArgs,
  parseBuildRootManifest,
  rootFamily,
  type BuildRootManifest,
} from '../../../src/kernel/build-root.js';
import { parseGccCompiler, type GccCompiler } from '../../../src/kernel/compiler.js';
import { silentProgress } from '../../../src/util/progress.js';

const gcc14 = parseGccCompiler('GCC: (Debian 14.2.0-19) 14.2.0') as GccCompiler;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'rebootless-build-root-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const failed = (stderrTail: string): RebootlessError =>
  new RebootlessError('COMMAND_FAILED', { command: 'unshare --mount -- mmdebstrap …', exitCode: 1, signal: null, stderrTail });

describe('a build root', () => {
  it("is of the kernel's codename, installing from its stable suites (a backports kernel's compiler is the stable one)", () => {
    expect(rootFamily('trixie')?.name).toBe('trixie');
    expect(rootFamily('bookworm-backports')?.name).toBe('bookworm');
    expect(rootFamily('bookworm')?.suites.map((s) => s.suite)).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security']);
    expect(rootFamily('sid')).toBeUndefined();
  });

  it('lives under the cache per codename and exact compiler', () => {
    expect(buildRootDir('/c', 'trixie', gcc14)).toBe('/c/roots/trixie/gcc-14_14.2.0-19');
  });

  it('is made by mmdebstrap with the compiler pinned to the Debian version vmlinux records', () => {
    const family = rootFamily('trixie');
    if (!family) throw new Error('no trixie family');
    const args = mmdebstrapArgs(family, gcc14, '/c/roots/trixie/gcc-14_14.2.0-19/root.partial-1', 0);
    expect(args.slice(0, 3)).toEqual(['--variant=minbase', '--mode=root', '--aptopt=Acquire::Retries "3"']);
    const include = args.find((a) => a.startsWith('--include='))?.slice('--include='.length).split(',');
    expect(include?.[0]).toBe('gcc-14=14.2.0-19');
    for (const p of ['gcc', 'libc6-dev', 'make', 'flex', 'bison', 'bc', 'libelf-dev', 'libssl-dev', 'dwarves', 'python3']) expect(include).toContain(p);
    const at = args.indexOf('trixie');
    expect(args[at + 1]).toBe('/c/roots/trixie/gcc-14_14.2.0-19/root.partial-1');
    expect(args.slice(at + 2)).toEqual([
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-updates main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security trixie-security main',
    ]);
    expect(mmdebstrapArgs(family, gcc14, '/x', 1000)).toContain('--mode=unshare');
  });

  it("reports a compiler gone from the archive as that, anything else with mmdebstrap's output", () => {
    const gone = bootstrapFailure(failed("E: Version '14.2.0-19' for 'gcc-14' was not found\nE: apt-get install failed"), 'trixie', gcc14, '/c/r');
    expect(gone).toMatchObject({ code: 'BUILD_ROOT_COMPILER_UNAVAILABLE', data: { suite: 'trixie', packageName: 'gcc-14', version: '14.2.0-19' } });
    const key = bootstrapFailure(failed('W: GPG error: ... NO_PUBKEY 762F67A0B2C39DE4\nE: apt-get update failed'), 'trixie', gcc14, '/c/r');
    expect(key).toMatchObject({ code: 'BUILD_ROOT_FAILED', data: { suite: 'trixie', dir: '/c/r', step: 'mmdebstrap' } });
    expect((key as RebootlessError).hint).toMatch(/debian-archive-keyring/);
    expect((bootstrapFailure(failed('E: Failed to fetch http://deb.debian.org/...'), 'trixie', gcc14, '/c/r') as RebootlessError).hint).toMatch(/network/);
    // a full disk stays a full disk (the stage runner names it)
    expect(bootstrapFailure(failed('dpkg: error: No space left on device'), 'trixie', gcc14, '/c/r')).toMatchObject({ code: 'COMMAND_FAILED' });
  });

  it('refuses a suite rebootless does not know and a compiler Debian did not build', async () => {
    const base = { cacheRoot: tmp, progress: silentProgress };
    await expect(ensureBuildRoot({ ...base, suite: 'sid', compiler: 'GCC: (Debian 14.2.0-19) 14.2.0' })).rejects.toMatchObject({ code: 'TOOLCHAIN_UNAVAILABLE' });
    await expect(ensureBuildRoot({ ...base, suite: 'trixie', compiler: 'GCC: (GNU) 14.2.1 20250110' })).rejects.toMatchObject({ code: 'TOOLCHAIN_UNAVAILABLE' });
  });

  it('is reused when complete, without running anything', async () => {
    const dir = buildRootDir(tmp, 'trixie', gcc14);
    await fsp.mkdir(path.join(dir, 'root'), { recursive: true });
    const manifest: BuildRootManifest = {
      schema: 1,
      codename: 'trixie',
      cc: 'gcc-14',
      ccVersion: 'gcc-14 (Debian 14.2.0-19) 14.2.0',
      comment: 'GCC: (Debian 14.2.0-19) 14.2.0',
      packages: [],
      sources: [],
      bytes: 1,
      seconds: 1,
      createdAt: '2026-12-01T00:00:00.000Z',
    };
    await fsp.writeFile(path.join(dir, BUILD_ROOT_MANIFEST), JSON.stringify(manifest));
    // a PATH without mmdebstrap, unshare or sh: anything run would fail
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const r = await ensureBuildRoot({ cacheRoot: tmp, suite: 'trixie', compiler: 'x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0', progress: silentProgress });
      expect(r).toEqual({ dir, root: path.join(dir, 'root'), manifest, created: false });
    } finally {
      process.env.PATH = saved;
    }
  });

  it('reads only a manifest of its schema', () => {
    expect(parseBuildRootManifest('{"schema":1,"codename":"trixie","cc":"gcc-14","ccVersion":"v","comment":"c"}')).toMatchObject({ codename: 'trixie' });
    expect(parseBuildRootManifest('{"schema":2,"codename":"trixie","cc":"gcc-14","ccVersion":"v","comment":"c"}')).toBeUndefined();
    expect(parseBuildRootManifest('not json')).toBeUndefined();
  });
});
