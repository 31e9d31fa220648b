import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkDir, keepWorkDir, sweepWorkDirs } from '../../../src/util/work-dir.js';
import { mapLimit } from '../../../src/util/concurrency.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'rb-workdir-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A pid that surely belongs to no process any more: a child that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid as number;

describe('work directories a kill -9 cannot leave behind', () => {
  it("sweeps the ones whose owner died, keeps live ones, kept ones and other prefixes'", async () => {
    const mk = (name: string, owner?: number, old = false): string => {
      const d = path.join(tmp, name);
      mkdirSync(d);
      if (owner !== undefined) writeFileSync(path.join(d, 'owner'), `${owner}\n`);
      if (old) utimesSync(d, new Date(0), new Date(0));
      return d;
    };
    // made first: making one sweeps the others
    const kept = await createWorkDir('rebootless-build-', tmp);
    await keepWorkDir(kept);
    utimesSync(kept, new Date(0), new Date(0));
    const dead = mk('rebootless-build-dead', deadPid());
    const live = mk('rebootless-build-live', process.pid);
    const orphanOld = mk('rebootless-build-orphan', undefined, true);
    const orphanNew = mk('rebootless-build-young');
    const other = mk('rebootless-other-dead', deadPid());
    const swept = await sweepWorkDirs('rebootless-build-', tmp);
    expect(swept.sort()).toEqual([dead, orphanOld].sort());
    for (const d of [live, orphanNew, other, kept]) expect(existsSync(d), d).toBe(true);
  });

  it('a new work directory names its owner', async () => {
    const d = await createWorkDir('rebootless-build-', tmp);
    expect(existsSync(path.join(d, 'owner'))).toBe(true);
    expect(await sweepWorkDirs('rebootless-build-', tmp)).not.toContain(d);
  });
});

describe('mapLimit', () => {
  it('keeps the input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([30, 5, 20, 1, 10], 2, async (ms, i) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return i * 10;
    });
    expect(out).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(2);
  });

  it('throws the first failure after the started jobs settle, and starts no new ones', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('two');
        return n;
      }),
    ).rejects.toThrow('two');
    expect(started).toEqual([1, 2]);
  });
});
