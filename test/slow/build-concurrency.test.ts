import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { finish, runCliProcess, spawnCli } from '../helpers/run-cli.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// Builds only read the prepared tree: two builds of one release at once both
// succeed, a build ended by kill -9 leaves a work directory the next build
// sweeps, and afterwards `kernel verify` finds the tree byte for byte as
// `kernel fetch` made it.

let ws: KernelWorkspace;
const out = mkdtempSync(path.join(os.tmpdir(), 'rb-concurrent-'));
const env = { REBOOTLESS_CACHE: sharedCache() };
afterAll(() => rmSync(out, { recursive: true, force: true }));

beforeAll(async () => {
  ws = await defaultWorkspace();
});

const buildArgs = (patch: string, name: string): string[] => ['build', '--kernel', ws.release, '--name', name, '-o', path.join(out, `${name}.ko`), patch];

/** This process's temp directories of builds, by owner pid. */
function buildDirs(): Map<number, string> {
  const dirs = new Map<number, string>();
  for (const name of readdirSync(os.tmpdir())) {
    if (!name.startsWith('rebootless-build-')) continue;
    const owner = path.join(os.tmpdir(), name, 'owner');
    if (existsSync(owner)) dirs.set(Number(readFileSync(owner, 'utf8').trim()), path.join(os.tmpdir(), name));
  }
  return dirs;
}

describe('builds of one release at once, and one killed', () => {
  it('two concurrent builds succeed; a kill -9 leaves a work directory that the next build sweeps; the tree verifies', async () => {
    const [a, b] = await Promise.all([
      runCliProcess(buildArgs('examples/cmdline.patch', 'concurrent_a'), env),
      runCliProcess(buildArgs('test/fixtures/build/getppid.patch', 'concurrent_b'), env),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(existsSync(path.join(out, 'concurrent_a.ko')) && existsSync(path.join(out, 'concurrent_b.ko'))).toBe(true);

    // a build killed while it works
    const victim = spawnCli(buildArgs('examples/cmdline.patch', 'killed'), env);
    const done = finish(victim);
    const pid = victim.pid as number;
    let dir: string | undefined;
    for (let waited = 0; !dir && waited < 120_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      dir = buildDirs().get(pid);
    }
    expect(dir, 'the build made its work directory').toBeDefined();
    // spawnCli runs node itself (tsx is loaded with --import): the pid is the build's
    process.kill(pid, 'SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(dir as string)).toBe(true);

    const next = await runCliProcess(buildArgs('examples/cmdline.patch', 'after_kill'), env);
    expect(next.code, next.stderr).toBe(0);
    expect(existsSync(dir as string), 'swept by the next build').toBe(false);

    const v = await runCliProcess(['kernel', 'verify', ws.release, '--full', '--json'], env);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const report = JSON.parse(v.stdout) as { ok: boolean; changed: { count: number }; added: { count: number }; removed: { count: number } };
    expect(report).toMatchObject({ ok: true, changed: { count: 0 }, added: { count: 0 }, removed: { count: 0 } });
  }, 20 * 60_000);
});
