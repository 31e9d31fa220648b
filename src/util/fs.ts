import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** Writes a file through a temp file in the same directory and a rename, so readers never see half of it. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): Promise<void> {
  // loaded here: the commands that only read (status, list) import this file, and node:crypto takes a while to load
  const { randomBytes } = await import('node:crypto');
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fsp.writeFile(tmp, data, mode === undefined ? undefined : { mode });
    const fh = await fsp.open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

export async function removePath(p: string): Promise<void> {
  await fsp.rm(p, { recursive: true, force: true, maxRetries: 3 });
}

/** Total size in bytes of the regular files below a directory (no symlinks followed). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await directorySize(p);
    else if (e.isFile()) total += (await fsp.stat(p)).size;
  }
  return total;
}

export function isNoSpaceError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { code?: unknown; data?: { stderrTail?: unknown } };
  if (err.code === 'ENOSPC') return true;
  const tailText = err.data?.stderrTail;
  return typeof tailText === 'string' && /No space left on device/i.test(tailText);
}

/** True if a process with this pid exists on this machine. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
