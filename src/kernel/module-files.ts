import { promises as fsp } from 'node:fs';
import path from 'node:path';

// A release's module files, by module name, from its modules.dep
// (`kernel/fs/binfmt_misc.ko: dep.ko ...`). Names treat '-' and '_' alike.

const nameOf = (p: string): string => path.basename(p).replace(/\.ko(\.(xz|gz|zst))?$/, '').replace(/-/g, '_');

/** The .ko of module `name` under `modulesDir`, or undefined when the release has none. */
export async function findModuleFile(modulesDir: string, name: string): Promise<string | undefined> {
  const dep = await fsp.readFile(path.join(modulesDir, 'modules.dep'), 'utf8').catch(() => '');
  const wanted = name.replace(/-/g, '_');
  for (const line of dep.split('\n')) {
    const file = line.slice(0, line.indexOf(':')).trim();
    if (file && nameOf(file) === wanted) return path.join(modulesDir, file);
  }
  return undefined;
}
