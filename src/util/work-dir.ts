import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processAlive, removePath } from './fs.js';

// Temporary work directories that a killed process (kill -9) cannot leave
// behind for good: each holds an `owner` file with its process id, and the
// next process to make one of the same kind removes those whose owner is
// gone. A directory kept on purpose (--keep-workdir, or for a bug report)
// loses its owner file and is never swept. One without an owner file is
// swept once it is an hour old (made by an older version, or killed between
// creating it and writing the file).

const OWNER = 'owner';
const ORPHAN_AGE_MS = 60 * 60 * 1000;

/** Makes `<tmp>/<prefix>XXXXXX` owned by this process, after sweeping the abandoned ones of that prefix. */
export async function createWorkDir(prefix: string, tmp = os.tmpdir()): Promise<string> {
  await sweepWorkDirs(prefix, tmp);
  const dir = await fsp.mkdtemp(path.join(tmp, prefix));
  await fsp.writeFile(path.join(dir, OWNER), `${process.pid}\n`);
  return dir;
}

/** Keeps a work directory for good: no later sweep removes it. */
export async function keepWorkDir(dir: string): Promise<void> {
  await fsp.rm(path.join(dir, OWNER), { force: true });
  await fsp.writeFile(path.join(dir, 'KEPT'), 'kept on purpose; remove it when done\n');
}

/** Removes `<tmp>/<prefix>*` directories whose owner process is gone; returns their paths. */
export async function sweepWorkDirs(prefix: string, tmp = os.tmpdir(), now = Date.now()): Promise<string[]> {
  const names = await fsp.readdir(tmp).catch(() => [] as string[]);
  const swept: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join(tmp, name);
    const owner = await fsp.readFile(path.join(dir, OWNER), 'utf8').catch(() => undefined);
    let abandoned: boolean;
    if (owner !== undefined) abandoned = !processAlive(Number(owner.trim()));
    else {
      const st = await fsp.lstat(dir).catch(() => undefined);
      const kept = await fsp.lstat(path.join(dir, 'KEPT')).then(() => true, () => false);
      abandoned = !!st?.isDirectory() && !kept && now - st.mtimeMs > ORPHAN_AGE_MS;
    }
    if (abandoned) {
      await removePath(dir);
      swept.push(dir);
    }
  }
  return swept;
}
