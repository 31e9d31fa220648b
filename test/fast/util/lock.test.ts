import { tempDir } from '../../helpers/tmp.js';
import { writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, isStale, parseLockHolder } from '../../../src/util/lock.js';

const tmp = (): string => tempDir('rb-lock-');

describe('lock', () => {
  it('takes over a stale lock left by a dead process', async () => {
    const lock = path.join(tmp(), 'x.lock');
    writeFileSync(lock, JSON.stringify({ pid: 2147483646, host: os.hostname(), startedAt: 'then' }));
    const release = await acquireLock(lock, { timeoutMs: 1000 });
    expect(parseLockHolder((await import('node:fs')).readFileSync(lock, 'utf8'))?.pid).toBe(process.pid);
    await release();
    expect(existsSync(lock)).toBe(false);
  });

  it('waits for a live holder, then gives up with LOCK_TIMEOUT naming it', async () => {
    const lock = path.join(tmp(), 'x.lock');
    const release = await acquireLock(lock, { timeoutMs: 1000 });
    const waits: number[] = [];
    await expect(acquireLock(lock, { timeoutMs: 300, pollMs: 50, onWait: (h) => waits.push(h.pid) })).rejects.toMatchObject({
      code: 'LOCK_TIMEOUT',
      data: { holderPid: process.pid },
    });
    expect(waits).toEqual([process.pid]);
    await release();
  });

  it('serializes two contenders: the second gets the lock once the first releases it', async () => {
    const lock = path.join(tmp(), 'x.lock');
    const order: string[] = [];
    const first = await acquireLock(lock, { timeoutMs: 1000 });
    const second = acquireLock(lock, { timeoutMs: 5000, pollMs: 20 }).then((rel) => {
      order.push('second');
      return rel;
    });
    await new Promise((r) => setTimeout(r, 100));
    order.push('first-release');
    await first();
    await (await second)();
    expect(order).toEqual(['first-release', 'second']);
  });

  it('judges staleness only for holders on this host', () => {
    expect(isStale({ pid: 1, host: 'other', startedAt: '' }, 'me', () => false)).toBe(false);
    expect(isStale({ pid: 1, host: 'me', startedAt: '' }, 'me', () => false)).toBe(true);
    expect(isStale(undefined)).toBe(true);
  });
});
