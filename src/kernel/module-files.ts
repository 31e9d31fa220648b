import { promises as fsp } from 'node:fs';
import path from 'node:path';

// A release's module files, by module name, from its modules.dep
// (`kernel/fs/binfmt_misc.ko: kernel/lib/dep.ko ...`). The one parser of
// that file: the VM ships modules with it, the build and verify find a target
// module's .ko with it. Names treat '-' and '_' alike.

export interface ModuleDep {
  /** path relative to /lib/modules/<release>, e.g. kernel/fs/binfmt_misc.ko */
  path: string;
  deps: string[];
}

/** The module name of a module file path: `kernel/drivers/hid/hid-steam.ko` → `hid_steam`. */
export const moduleName = (p: string): string =>
  (p.split('/').pop() ?? p).replace(/\.ko(\.(xz|gz|zst))?$/, '').replace(/-/g, '_');

export function parseModulesDep(text: string): Map<string, ModuleDep> {
  const out = new Map<string, ModuleDep>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const file = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean);
    out.set(moduleName(file), { path: file, deps });
  }
  return out;
}

/** The .ko of module `name` under `modulesDir`, or undefined when the release has none. */
export async function findModuleFile(modulesDir: string, name: string): Promise<string | undefined> {
  const dep = await fsp.readFile(path.join(modulesDir, 'modules.dep'), 'utf8').catch(() => '');
  const m = parseModulesDep(dep).get(name.replace(/-/g, '_'));
  return m ? path.join(modulesDir, m.path) : undefined;
}
