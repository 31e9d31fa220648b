import { findCallbacks } from './passes/callbacks.js';
import { shareDecodedCode } from '../arch/x86_64/rela-target.js';
import { SHT_STRTAB, SHT_SYMTAB, STT_FUNC } from '../elf/constants.js';
import { buildIndex } from '../elf/lookup.js';
import type { ElfFile } from '../elf/model.js';
import { compareFunctions, type Side } from './compare.js';
import { correlate, elements } from './correlate.js';
import { carryUntraceable } from './passes/carry.js';
import { collapseAliases } from './passes/aliases.js';
import { compareElements } from './passes/compare.js';
import { propagateChanges } from './passes/propagate.js';
import { refuseUnpatchable } from './passes/refuse.js';
import type { DiffState } from './passes/state.js';
import { buildReferenceGraph } from './references.js';
import { ignorable, sameContents } from './sections.js';
import { entriesOf } from './special.js';
import type { DiffOptions, DiffResult } from './types.js';

export type * from './types.js';
export { hasFentry } from './sections.js';
/** Loads the instruction decoder the differ uses while the caller waits on compilers. */
export { preloadIced as preloadDecoder } from '../arch/x86_64/iced.js';

// The object differ, pure: two parsed objects in, a DiffResult out. Its
// passes, in the order they run, one file each under passes/:
//   1. correlate  pair each orig symbol with its patched twin (correlate.ts)
//   2. compare    every element against its twin: same, changed, new, removed
//   3. propagate  changed constants and .cold/.part pieces change their users
//   4. carry      untraceable changed code is carried, its callers patched
//   5. callbacks  the functions registered with <linux/rebootless.h>
//   6. refuse     what cannot be live patched, with reasons
//   7. aliases    one entry per piece of code
//   8. collect    side-table entries, warnings, the verdict (below)

export function diffObjects(orig: ElfFile, patched: ElfFile, options: DiffOptions = {}): DiffResult {
  const oi = buildIndex(orig);
  const pi = buildIndex(patched);
  shareDecodedCode(oi, pi);
  const twins = correlate(elements(orig), elements(patched), oi, pi, (o, p, t) =>
    o.type === STT_FUNC && p.type === STT_FUNC && o.size === p.size && compareFunctions(o, p, { role: 'orig', idx: oi, twins: t }, { role: 'patched', idx: pi, twins: t }).same,
  );
  const oSide: Side = { role: 'orig', idx: oi, twins };
  const pSide: Side = { role: 'patched', idx: pi, twins };
  const state = compareElements({ orig, patched, oi, pi, twins, oSide, pSide, graph: buildReferenceGraph(patched, pi), options });
  propagateChanges(state);
  carryUntraceable(state);
  findCallbacks(state);
  refuseUnpatchable(state);
  collapseAliases(state);
  return collect(state);
}

/** Pass 8: the result, with each included function's side-table entries and the verdict. */
function collect(state: DiffState): DiffResult {
  const { functions, patched, pi, oi, refusals, warnings } = state;
  // metadata that changed and needs nothing (debug info, notes, our own side tables)
  const ignoredSections = patched.sections
    .filter((ps) => ps.name && ignorable(ps) && !/^\.rela?\.|^\.(symtab|strtab|shstrtab)$/.test(ps.name) && ps.type !== SHT_SYMTAB && ps.type !== SHT_STRTAB)
    .filter((ps) => {
      const os = oi.findSectionByName(ps.name);
      return !os || !sameContents(os, ps);
    })
    .map((ps) => ps.name);
  const fnList = [...functions.values()];
  const specialEntries: DiffResult['specialEntries'] = {};
  for (const [sym, fd] of functions) {
    if (!fd.include || fd.status === 'removed') continue;
    const groups = entriesOf(sym, patched, pi);
    if (groups.length) specialEntries[fd.name] = groups;
  }
  for (const fd of fnList) if (fd.status === 'removed') warnings.push(`${fd.name} was removed; the running kernel keeps its copy`);
  const patches = fnList.some((f) => f.include === 'patch') || (state.options.created === true && fnList.some((f) => f.include === 'carry'));
  const verdict = refusals.length ? 'unpatchable' : patches ? 'patchable' : 'no-change';
  if (verdict === 'no-change' && fnList.some((f) => f.status === 'new')) warnings.push('new functions but no changed function calls them: nothing to patch');
  return {
    file: patched.file,
    verdict,
    functions: fnList.sort((a, b) => a.name.localeCompare(b.name)),
    data: [...state.data.values()].sort((a, b) => a.name.localeCompare(b.name)),
    refusals,
    specialEntries,
    ignoredSections,
    callbacks: state.callbacks,
    states: state.states,
    warnings,
  };
}
