import { STB_LOCAL } from '../../elf/constants.js';
import type { ElfSymbol } from '../../elf/model.js';
import type { FunctionDiff } from '../types.js';
import type { DiffState } from './state.js';

// Pass 6, collapse aliases: one entry per piece of code, its other names as
// aliases, a global name first (the compiler folds identical functions:
// `__x64_sys_x` = `__do_sys_x`).

export function collapseAliases(state: DiffState): void {
  const { functions } = state;
  for (const [sym, fd] of functions) {
    if (!sym.section || fd.status === 'removed') continue;
    const same = [...functions].filter(([s, f]) => s !== sym && s.section === sym.section && s.value === sym.value && f.status !== 'removed');
    if (!same.length || functions.get(sym) !== fd) continue;
    const all = [[sym, fd] as const, ...same].sort(([a], [b]) => Number(a.bind === STB_LOCAL) - Number(b.bind === STB_LOCAL) || a.name.localeCompare(b.name));
    const keepFd = (all[0] as readonly [ElfSymbol, FunctionDiff])[1];
    keepFd.aliases = all.slice(1).map(([s]) => s.name);
    for (const [s] of all.slice(1)) functions.delete(s);
  }
}
