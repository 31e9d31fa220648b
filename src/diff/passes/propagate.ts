import { SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS, SHF_WRITE, STB_LOCAL, STT_FUNC } from '../../elf/constants.js';
import type { ElfSection, ElfSymbol } from '../../elf/model.js';
import { describeDataChange } from '../compare.js';
import { isChildPart, parentOf } from '../names.js';
import { refusal } from '../refusals.js';
import { ignorable, isInit, isPerSiteData, sameContents } from '../sections.js';
import type { FunctionDiff } from '../types.js';
import { compareSideTables } from './side-tables.js';
import type { DiffState } from './state.js';

// Pass 3, propagate: a change that is not in a function's own bytes still
// changes what the function does.
// - Read-only data that changed is carried as a new copy, so its users must
//   change with it. That is only right when every user is a function this
//   patch replaces: a table that data or init code points at (an ops table
//   registered long ago) is reached by the running kernel through pointers
//   the patch cannot move, so it is refused, naming the field that changed.
// - Anonymous constants (no symbol) that changed change the functions using them.
// - Changed side-table entries (a static branch's key, an alternative's
//   feature, WARN or BUG) change a function whose bytes are the same.
// - A changed `.cold`/`.part` piece changes its parent.

const CHANGED_TABLE_HINT =
  'the running kernel reaches this table through pointers set up long ago (registration at init, other data), so a new copy would never be used; patch the function the changed entry concerns instead (e.g. the one the old entry points at, or the code that dispatches through the table, checking the ops pointer there)';

export function propagateChanges(state: DiffState): void {
  const { graph, oi, patched, functions, data } = state;
  const refused = new Set(state.refusals.map((r) => r.symbol));
  const markChanged = (fn: ElfSymbol, because: string): void => {
    const fd = functions.get(fn);
    if (fd?.status === 'same') {
      fd.status = 'changed';
      fd.because = because;
    }
  };

  for (const [sym, d] of data) {
    // init data has been used and freed: the refuse pass judges why it changed
    if (d.status !== 'changed' || d.special || refused.has(d.name) || isInit(sym.section)) continue;
    const o = state.twins.backward.get(sym);
    const field = o ? describeDataChange(o, sym, state.oSide, state.pSide) : '';
    const users = graph.usersOf(sym);
    const userName = (u: (typeof users)[number]): string => u.from?.name ?? u.section.name;
    const fromElsewhere = users.filter((u) => u.from?.type !== STT_FUNC || isInit(u.section));
    const functionUsers = [...new Set(users.filter((u) => u.from?.type === STT_FUNC && !isInit(u.section)).map((u) => u.from as ElfSymbol))];
    let why: string | undefined;
    if (sym.bind !== STB_LOCAL) why = 'it is global, so code outside this object may use the copy the kernel has';
    else if (fromElsewhere.length) why = `${[...new Set(fromElsewhere.map(userName))].join(', ')} point${fromElsewhere.length === 1 ? 's' : ''} at it`;
    else if (functionUsers.length === 0) why = 'no function of the patch uses it, so the new value would never be read';
    if (why) {
      state.refusals.push({ ...refusal('DATA_CHANGED', d.name, `read-only data ${d.name} changed${field ? ` (${field})` : ''}, and ${why}`, { section: d.section }), hint: CHANGED_TABLE_HINT });
      continue;
    }
    for (const fn of functionUsers) markChanged(fn, `uses changed read-only data ${d.name}`);
  }

  // anonymous constants: a section without named data whose bytes changed
  for (const ps of patched.sections) {
    if (!/^\.(rodata|data|bss)(\.|$)/.test(ps.name) || isPerSiteData(ps.name) || ignorable(ps) || (ps.flags & (SHF_STRINGS | SHF_MERGE | SHF_EXECINSTR)) !== 0n) continue;
    if (state.pi.findSymbolsBySection(ps).some((s) => s.size > 0)) continue;
    const os: ElfSection | undefined = oi.findSectionByName(ps.name);
    if (!os || sameContents(os, ps)) continue;
    const secSym = state.pi.findSectionSymbol(ps);
    const users = secSym ? graph.usersOf(secSym) : [];
    if ((ps.flags & SHF_WRITE) !== 0n) {
      state.refusals.push(refusal('DATA_CHANGED', ps.name, `anonymous data in ${ps.name} changed`, { section: ps.name }));
      continue;
    }
    for (const u of users) if (u.from?.type === STT_FUNC) markChanged(u.from, `uses changed constants in ${ps.name}`);
  }

  compareSideTables(state);

  const byName = new Map<string, FunctionDiff>([...functions].map(([s, fd]) => [s.name, fd]));
  for (const fd of functions.values()) {
    if (fd.status !== 'changed' || !isChildPart(fd.name)) continue;
    const parent = byName.get(parentOf(fd.name));
    if (parent && parent.status === 'same') {
      parent.status = 'changed';
      parent.because = `its part ${fd.name} changed`;
    }
  }
}
