import { RebootlessError } from '../errors/index.js';
import { moduleName, type ModuleDep } from '../kernel/module-files.js';

// Kernel modules for the guest: a module and everything it depends on, from
// the release's modules.dep (parsed by kernel/module-files.ts).

export { moduleName, parseModulesDep, type ModuleDep } from '../kernel/module-files.js';

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

/** Module names near `name`: containing it, or a few edits away. */
export function closeNames(name: string, known: Iterable<string>, max = 8): string[] {
  const n = name.replace(/-/g, '_');
  const scored: [number, string][] = [];
  for (const k of known) {
    const d = k.includes(n) || n.includes(k) ? 0.5 : distance(n, k);
    if (d <= Math.max(2, Math.floor(n.length / 3))) scored.push([d, k]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).slice(0, max).map((s) => s[1]);
}

/** The module files to ship for `names`, dependencies first, each once. */
export function resolveModules(deps: Map<string, ModuleDep>, names: readonly string[], release: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const m = deps.get(moduleName(path));
    for (const d of m?.deps ?? []) visit(d);
    out.push(path);
  };
  for (const name of names) {
    const m = deps.get(name.replace(/-/g, '_'));
    if (!m) throw new RebootlessError('VM_MODULE_UNKNOWN', { name, release, close: closeNames(name, deps.keys()) });
    visit(m.path);
  }
  return out;
}

/** modules.dep restricted to the shipped modules, so modprobe in the guest sees a consistent set. */
export function renderModulesDep(deps: Map<string, ModuleDep>, paths: readonly string[]): string {
  return paths.map((p) => `${p}: ${(deps.get(moduleName(p))?.deps ?? []).join(' ')}`.trimEnd() + '\n').join('');
}
