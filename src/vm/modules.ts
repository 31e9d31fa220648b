import { moduleNameOfFile } from '../util/module-name.js';
import type { ModuleDep } from '../kernel/module-files.js';

// The guest's modules.dep: the release's (read and resolved by
// kernel/module-files.ts) cut down to the modules shipped.

/** modules.dep restricted to the shipped modules, so modprobe in the guest sees a consistent set. */
export function renderModulesDep(deps: Map<string, ModuleDep>, paths: readonly string[]): string {
  return paths.map((p) => `${p}: ${(deps.get(moduleNameOfFile(p))?.deps ?? []).join(' ')}`.trimEnd() + '\n').join('');
}
