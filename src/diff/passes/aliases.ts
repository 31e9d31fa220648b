import { STB_LOCAL } from '../../elf/constants.js';
import type { ElfSection, ElfSymbol } from '../../elf/model.js';
import type { FunctionDiff } from '../types.js';
import type { DiffState } from './state.js';

// Pass 6, collapse aliases: one entry per piece of code, its other names as
// aliases, a global name first (the compiler folds identical functions:
// `__x64_sys_x` = `__do_sys_x`).

export function collapseAliases(state: DiffState): void {
  const { functions } = state;
  // the functions at each place, in map order (what the map would yield scanned whole for each)
  const atPlace = new Map<ElfSection, Map<bigint, [ElfSymbol, FunctionDiff][]>>();
  for (const [sym, fd] of functions) {
    if (!sym.section || fd.status === 'removed') continue;
    let byValue = atPlace.get(sym.section);
    if (!byValue) atPlace.set(sym.section, (byValue = new Map()));
    const here = byValue.get(sym.value);
    if (here) here.push([sym, fd]);
    else byValue.set(sym.value, [[sym, fd]]);
  }
  for (const byValue of atPlace.values()) {
    for (const here of byValue.values()) {
      if (here.length < 2) continue;
      const all = here.sort(([a], [b]) => Number(a.bind === STB_LOCAL) - Number(b.bind === STB_LOCAL) || a.name.localeCompare(b.name));
      const keepFd = (all[0] as [ElfSymbol, FunctionDiff])[1];
      keepFd.aliases = all.slice(1).map(([s]) => s.name);
      for (const [s] of all.slice(1)) functions.delete(s);
    }
  }
}
