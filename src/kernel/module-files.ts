import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { moduleName, moduleNameOfFile } from '../util/module-name.js';

// A release's module files, by module name, from its modules.dep
// (`kernel/fs/binfmt_misc.ko: kernel/lib/dep.ko ...`). The one reader of
// that file: the VM ships modules with it, the build and verify find a target
// module's .ko with it. Names treat '-' and '_' alike.

export interface ModuleDep {
  /** path relative to /lib/modules/<release>, e.g. kernel/fs/binfmt_misc.ko */
  path: string;
  deps: string[];
}

export function parseModulesDep(text: string): Map<string, ModuleDep> {
  const out = new Map<string, ModuleDep>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const file = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean);
    out.set(moduleNameOfFile(file), { path: file, deps });
  }
  return out;
}

/** The modules.dep of a release's module directory; a workspace without one is broken, not empty. */
export async function readModulesDep(modulesDir: string): Promise<Map<string, ModuleDep>> {
  const file = path.join(modulesDir, 'modules.dep');
  try {
    return parseModulesDep(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new RebootlessError('MODULES_DEP_UNREADABLE', { path: file, reason: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message }, { cause: e });
  }
}

/** The .ko of module `name` under `modulesDir`, or undefined when the release has none. */
export async function findModuleFile(modulesDir: string, name: string): Promise<string | undefined> {
  const m = (await readModulesDep(modulesDir)).get(moduleName(name));
  return m ? path.join(modulesDir, m.path) : undefined;
}

/** The module files `names` need, dependencies first, each once (paths as in modules.dep). */
export function resolveModules(deps: Map<string, ModuleDep>, names: readonly string[], release: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const d of deps.get(moduleNameOfFile(file))?.deps ?? []) visit(d);
    out.push(file);
  };
  for (const name of names) {
    const m = deps.get(moduleName(name));
    if (!m) throw new RebootlessError('MODULE_UNKNOWN', { name, release, close: closeNames(name, deps.keys()) });
    visit(m.path);
  }
  return out;
}

/** Module names near `name`: containing it, or a few edits away. */
export function closeNames(name: string, known: Iterable<string>, max = 8): string[] {
  const n = moduleName(name);
  const scored: [number, string][] = [];
  for (const k of known) {
    const d = k.includes(n) || n.includes(k) ? 0.5 : distance(n, k);
    if (d <= Math.max(2, Math.floor(n.length / 3))) scored.push([d, k]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).slice(0, max).map((s) => s[1]);
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}
