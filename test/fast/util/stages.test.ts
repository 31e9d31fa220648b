import { tempDir } from '../../helpers/tmp.js';
import { existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RebootlessError } from '../../../src/errors/index.js';
import { silentProgress } from '../../../src/util/progress.js';
import { markerPath, runStages, type Stage } from '../../../src/util/stages.js';

const tmp = (): string => tempDir('rb-stages-');

function writer(name: string, log: string[], fail?: () => Error | undefined): Stage {
  return {
    name,
    output: name,
    async run(ctx) {
      log.push(name);
      writeFileSync(path.join(ctx.out, 'half'), 'x');
      const err = fail?.();
      if (err) throw err;
      writeFileSync(path.join(ctx.out, 'data'), name);
    },
  };
}

describe('staged cache', () => {
  it('runs every stage once and skips completed stages on the next run', async () => {
    const root = tmp();
    const log: string[] = [];
    const stages = [writer('a', log), writer('b', log)];
    const first = await runStages(root, stages, { progress: silentProgress });
    expect(first.map((r) => r.skipped)).toEqual([false, false]);
    const second = await runStages(root, stages, { progress: silentProgress });
    expect(second.map((r) => r.skipped)).toEqual([true, true]);
    expect(log).toEqual(['a', 'b']);
    expect(existsSync(path.join(root, 'b', 'data'))).toBe(true);
  });

  it('removes the half-written output of an interrupted stage and redoes it', async () => {
    const root = tmp();
    const log: string[] = [];
    let interrupt = true;
    const stages = [writer('a', log), writer('b', log, () => (interrupt ? new RebootlessError('INTERRUPTED', { signal: 'SIGINT' }) : undefined))];
    await expect(runStages(root, stages, { progress: silentProgress })).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(existsSync(path.join(root, 'b'))).toBe(false);
    expect(readdirSync(root).filter((n) => n.includes('partial'))).toEqual([]);
    expect(existsSync(markerPath(root, 'b'))).toBe(false);
    interrupt = false;
    const r = await runStages(root, stages, { progress: silentProgress });
    expect(r.map((x) => x.skipped)).toEqual([true, false]);
    expect(log).toEqual(['a', 'b', 'b']);
  });

  it('clears a partial output left by a killed process (kill -9) before redoing the stage', async () => {
    const root = tmp();
    // a pid that cannot be alive
    const dead = path.join(root, 'a.partial-2147483646');
    mkdirSync(dead);
    writeFileSync(path.join(dead, 'half'), 'x');
    await runStages(root, [writer('a', [])], { progress: silentProgress });
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(path.join(root, 'a', 'data'))).toBe(true);
  });

  it('never trusts a marker whose output is gone, and redoes every later stage', async () => {
    const root = tmp();
    const log: string[] = [];
    const stages = [writer('a', log), writer('b', log)];
    await runStages(root, stages, { progress: silentProgress });
    await import('node:fs/promises').then((f) => f.rm(path.join(root, 'a'), { recursive: true }));
    const r = await runStages(root, stages, { progress: silentProgress });
    expect(r.map((x) => x.skipped)).toEqual([false, false]);
    expect(log).toEqual(['a', 'b', 'a', 'b']);
  });

  it('turns a full disk into DISK_FULL and removes the partial stage', async () => {
    const root = tmp();
    const enospc = Object.assign(new Error('write failed'), { code: 'ENOSPC' });
    await expect(runStages(root, [writer('a', [], () => enospc)], { progress: silentProgress })).rejects.toMatchObject({ code: 'DISK_FULL' });
    expect(readdirSync(root).filter((n) => n.startsWith('a'))).toEqual([]);
    const fromTar = new RebootlessError('COMMAND_FAILED', { command: 'tar', exitCode: 2, signal: null, stderrTail: 'tar: x: Cannot write: No space left on device' });
    await expect(runStages(root, [writer('a', [], () => fromTar)], { progress: silentProgress })).rejects.toMatchObject({ code: 'DISK_FULL' });
  });

  it('tells an in-place stage that an earlier attempt was interrupted', async () => {
    const root = tmp();
    const seen: boolean[] = [];
    let fail = true;
    const stage: Stage = {
      name: 'prep',
      async run(ctx) {
        seen.push(ctx.resumed);
        if (fail) throw new Error('boom');
      },
    };
    await expect(runStages(root, [stage], { progress: silentProgress })).rejects.toThrow('boom');
    fail = false;
    await runStages(root, [stage], { progress: silentProgress });
    await runStages(root, [stage], { progress: silentProgress });
    expect(seen).toEqual([false, true]);
  });
});
