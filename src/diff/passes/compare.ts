import { SHF_WRITE, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../elf/constants.js';
import { compareData, compareFunctions } from '../compare.js';
import { elements } from '../correlate.js';
import { isSpecialStatic } from '../names.js';
import { refusal } from '../refusals.js';
import { hasFentry, isExportSection, isInit } from '../sections.js';
import { specialSection } from '../special.js';
import type { DataDiff, FunctionDiff } from '../types.js';
import type { DiffInput, DiffState } from './state.js';

// Pass 2, compare: every patched function and object against its twin;
// what has no twin is new, what the original alone has is removed. Changed
// writable data is refused here: the running kernel keeps its values.

export function compareElements(input: DiffInput): DiffState {
  const { orig, patched, oi, pi, twins, oSide, pSide } = input;
  const state: DiffState = { ...input, functions: new Map(), data: new Map(), refusals: [], warnings: [], callbacks: [], states: [] };
  const skipData = (name: string): boolean => specialSection(name) !== undefined || isExportSection(name);

  for (const p of elements(patched)) {
    const o = twins.backward.get(p);
    const base = { name: p.name, section: p.section?.name ?? '', ...(o && o.name !== p.name ? { twin: o.name } : {}) };
    if (p.type === STT_FUNC) {
      const fd: FunctionDiff = { ...base, status: 'new', hasFentry: hasFentry(p, pi), local: p.bind === STB_LOCAL };
      if (o) {
        const c = compareFunctions(o, p, oSide, pSide);
        fd.status = c.same ? 'same' : 'changed';
        if (!c.same) {
          if (c.firstDifference) fd.firstDifference = c.firstDifference;
          if (c.newCallees.length) fd.newCallees = c.newCallees;
          if (c.removedCallees.length) fd.removedCallees = c.removedCallees;
        }
      }
      state.functions.set(p, fd);
    } else if (p.type === STT_OBJECT) {
      if (isSpecialStatic(p)) {
        state.data.set(p, { ...base, status: 'new', special: true });
        continue;
      }
      if (skipData(p.section?.name ?? '')) continue;
      const d: DataDiff = { ...base, status: o ? 'same' : 'new' };
      if (o) {
        const how = compareData(o, p, oSide, pSide);
        if (how !== 'same') d.status = 'changed';
        // changed init data is judged by the refuse pass (a change of references alone is left)
        if (how !== 'same' && !isInit(p.section) && ((p.section?.flags ?? 0n) & SHF_WRITE) !== 0n) {
          state.refusals.push(
            refusal('DATA_CHANGED', p.name, how === 'size' ? `size of ${p.name} changed (${o.size} → ${p.size} bytes)` : `initial value of ${p.name} changed`, {
              section: d.section,
            }),
          );
        }
      }
      state.data.set(p, d);
    }
  }
  for (const o of elements(orig)) {
    if (twins.forward.has(o) || isSpecialStatic(o)) continue;
    if (o.type === STT_FUNC) state.functions.set(o, { name: o.name, section: o.section?.name ?? '', status: 'removed', hasFentry: hasFentry(o, oi), local: o.bind === STB_LOCAL });
    else if (o.type === STT_OBJECT && !skipData(o.section?.name ?? '')) state.data.set(o, { name: o.name, section: o.section?.name ?? '', status: 'removed' });
  }
  return state;
}
