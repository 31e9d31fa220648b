import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { RebootlessError } from '../errors/index.js';
import { processAlive } from './fs.js';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export interface LockOptions {
  /** How long to wait for another holder before giving up. */
  timeoutMs: number;
  pollMs?: number;
  /** Told once when the lock is busy and we start waiting. */
  onWait?: (holder: LockHolder) => void;
  signal?: AbortSignal;
}

export type ReleaseLock = () => Promise<void>;

export function parseLockHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string') {
      return { pid: v.pid, host: v.host, startedAt: v.startedAt };
    }
  } catch {
    // unreadable: treated as stale below
  }
  return undefined;
}

/** A lock is stale when its holder ran on this host and is gone, or its file is unreadable. */
export function isStale(holder: LockHolder | undefined, host = os.hostname(), alive = processAlive): boolean {
  if (!holder) return true;
  return holder.host === host && !alive(holder.pid);
}

/**
 * An exclusive lock file holding the owner's pid. A lock left by a process
 * that died (kill -9) is detected and taken over.
 */
export async function acquireLock(lockPath: string, options: LockOptions): Promise<ReleaseLock> {
  const me: LockHolder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  const mine = JSON.stringify(me);
  const start = Date.now();
  let told = false;
  for (;;) {
    try {
      await fsp.writeFile(lockPath, mine, { flag: 'wx' });
      return async () => {
        const now = await fsp.readFile(lockPath, 'utf8').catch(() => '');
        if (now === mine) await fsp.rm(lockPath, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const text = await fsp.readFile(lockPath, 'utf8').catch(() => null);
    if (text === null) continue; // released between our attempts
    const holder = parseLockHolder(text);
    if (isStale(holder)) {
      await takeOverStale(lockPath, text);
      continue;
    }
    const h = holder as LockHolder;
    if (!told) {
      options.onWait?.(h);
      told = true;
    }
    if (Date.now() - start >= options.timeoutMs) {
      throw new RebootlessError('LOCK_TIMEOUT', {
        lockPath,
        holderPid: h.pid,
        waitedSeconds: Math.round((Date.now() - start) / 1000),
      });
    }
    if (options.signal?.aborted) throw new RebootlessError('INTERRUPTED', { signal: 'SIGINT' });
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}

// Move the stale file aside atomically; if what we moved is not what we judged
// stale (another process took over meanwhile), put it back.
async function takeOverStale(lockPath: string, staleText: string): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}`;
  try {
    await fsp.rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await fsp.readFile(aside, 'utf8').catch(() => '');
  if (moved !== staleText) {
    await fsp.link(aside, lockPath).catch(() => undefined);
  }
  await fsp.rm(aside, { force: true });
}
