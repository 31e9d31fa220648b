import { promises as fsp } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compilerOf } from '../../src/elf/comment.js';
import { readElfFile } from '../../src/elf/files.js';
import { aptEnv, aptStateFor, refreshLists } from '../../src/kernel/apt-state.js';
import { BUILD_ROOT_MANIFEST, ensureBuildRoot } from '../../src/kernel/build-root.js';
import { parseAptCandidate } from '../../src/kernel/requirements.js';
import { findFamilyByName } from '../../src/kernel/suites.js';
import { runInToolchain, toolchainCommand, type Toolchain } from '../../src/kernel/toolchain.js';
import { markerPath } from '../../src/util/stages.js';
import { runCommand } from '../../src/util/process.js';
import { formatBytes, formatDuration, silentProgress } from '../../src/util/progress.js';
import { sharedCache } from '../helpers/workspace.js';

// A real Debian 13 (trixie) build root in the shared cache, with the gcc-14
// that trixie serves now (the one its 6.12 kernels are built with; this
// bookworm host has no gcc-14 at all). A C file in a directory outside the
// root is compiled inside it at the same path, and the object says gcc 14.

const cache = sharedCache();
const work = mkdtempSync(path.join(os.tmpdir(), 'rb-build-root-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** trixie's gcc-14 as its .comment string, from the archive as it is today (never hard-coded). */
async function trixieGcc(): Promise<string> {
  const family = findFamilyByName('trixie');
  if (!family) throw new Error('no trixie suite family');
  const state = aptStateFor(cache, family);
  await refreshLists(state, { progress: silentProgress });
  const version = parseAptCandidate((await runCommand('apt-cache', ['policy', 'gcc-14'], { env: aptEnv(state) })).stdout);
  if (!version) throw new Error('trixie serves no gcc-14');
  return `GCC: (Debian ${version}) ${version.replace(/-.*$/, '')}`;
}

describe('a trixie build root', () => {
  let compiler = '';
  let tc: Toolchain = { kind: 'host' };

  it("is made once with trixie's exact gcc-14 and records it", async () => {
    compiler = await trixieGcc();
    const t0 = Date.now();
    const r = await ensureBuildRoot({ cacheRoot: cache, suite: 'trixie', compiler, progress: silentProgress });
    const ms = Date.now() - t0;
    const bytes = (await runCommand('du', ['-sb', r.root])).stdout.split('\t')[0];
    process.stderr.write(`build root ${r.created ? 'made' : 'reused'} in ${formatDuration(ms)}: ${r.dir}, ${formatBytes(Number(bytes))} (du), manifest ${formatBytes(r.manifest.bytes)}\n`);
    expect(r.manifest).toMatchObject({ codename: 'trixie', cc: 'gcc-14', comment: compiler });
    expect(r.manifest.ccVersion).toMatch(/^gcc-14 \(Debian 14\.[^)]+\) 14\./);
    tc = { kind: 'root', root: r.root, suite: 'trixie', binds: [work] };
  });

  it('runs gcc-14, which the host does not have', async () => {
    await expect(runCommand('gcc-14', ['--version'])).rejects.toMatchObject({ code: 'TOOL_MISSING' });
    const { stdout } = await runInToolchain(tc, 'gcc-14', ['--version'], { cwd: work });
    expect(stdout.split('\n')[0]).toMatch(/^gcc-14 \(Debian 14\./);
  });

  it('compiles a file outside the root, at the same absolute paths, into an object that says gcc 14 (Debian)', async () => {
    const src = path.join(work, 'answer.c');
    const obj = path.join(work, 'out', 'answer.o');
    writeFileSync(src, 'int answer(void) { return 42; }\n');
    await fsp.mkdir(path.dirname(obj));
    const { stdout } = await runInToolchain(tc, 'sh', ['-c', 'pwd && exec gcc-14 -O2 -c "$1" -o "$2"', 'sh', src, obj], { cwd: work });
    expect(stdout.trim()).toBe(work);
    const comment = compilerOf(await readElfFile(obj));
    expect(comment).toBe(compiler);
    expect(comment).toMatch(/^GCC: \(Debian 14\./);
    // nothing of the compile stayed in the root
    await expect(fsp.access(path.join(tc.kind === 'root' ? tc.root : '/', obj))).rejects.toThrow();
  });

  it('runs for a caller that is not root, through a user namespace, writing files the caller owns', async () => {
    if (process.getuid?.() !== 0) return; // needs root to become nobody; a non-root run of the suite takes this path anyway
    const mine = mkdtempSync(path.join(os.tmpdir(), 'rb-build-root-nobody-'));
    try {
      await fsp.chown(mine, 65534, 65534);
      const asNobody: Toolchain = { ...tc, binds: [mine] } as Toolchain;
      const c = toolchainCommand(asNobody, 'sh', ['-c', 'echo "int x;" | gcc-14 -c -x c - -o x.o'], { cwd: mine, userNamespace: true });
      await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', c.file, ...c.args], { cwd: mine });
      const st = await fsp.stat(path.join(mine, 'x.o'));
      expect(st.uid).toBe(65534);
      expect(compilerOf(await readElfFile(path.join(mine, 'x.o')))).toBe(compiler);
    } finally {
      rmSync(mine, { recursive: true, force: true });
    }
  });

  it('is reused by a second call: no second mmdebstrap', async () => {
    const dir = path.dirname(tc.kind === 'root' ? tc.root : '');
    const marker = markerPath(dir, 'bootstrap');
    const before = { marker: (await fsp.stat(marker)).mtimeMs, manifest: await fsp.readFile(path.join(dir, BUILD_ROOT_MANIFEST), 'utf8') };
    const again = await ensureBuildRoot({ cacheRoot: cache, suite: 'trixie', compiler: `x86_64-linux-gnu-gcc-14 (${compiler.slice('GCC: ('.length)}`, progress: silentProgress });
    expect(again.created).toBe(false);
    expect(again.root).toBe(tc.kind === 'root' ? tc.root : '');
    expect((await fsp.stat(marker)).mtimeMs).toBe(before.marker);
    expect(await fsp.readFile(path.join(dir, BUILD_ROOT_MANIFEST), 'utf8')).toBe(before.manifest);
  });
});
