import { SHF_ALLOC, SHF_WRITE, SHT_GROUP, SHT_NOBITS, SHT_STRTAB, SHT_SYMTAB, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../elf/constants.js';
import { buildIndex, type ElfIndex } from '../elf/lookup.js';
import type { ElfFile, ElfSection, ElfSymbol } from '../elf/model.js';
import { compareData, compareFunctions, type Side } from './compare.js';
import { correlate, elements, referencedSymbols } from './correlate.js';
import { isChildPart, isSpecialStatic, parentOf } from './names.js';
import { refusal } from './refusals.js';
import { entriesOf, localKeysOf, specialSection } from './special.js';
import type { DataDiff, DiffOptions, DiffResult, FunctionDiff, Refusal } from './types.js';

export type * from './types.js';

// The object differ: correlate → compare → propagate → refuse → collect.
// Pure: two parsed objects in, a DiffResult out.

const isInit = (s: ElfSection | null): boolean => !!s && /^\.(init|exit)\.(text|data|rodata)/.test(s.name);
const isExportSection = (name: string): boolean => /^___?ksymtab(_gpl)?\+|^__ksymtab(_gpl)?$|^__ksymtab_strings$/.test(name);

/** A call to __fentry__ in the first instructions: the function can be redirected by ftrace. */
export function hasFentry(fn: ElfSymbol, idx: ElfIndex): boolean {
  if (!fn.section) return false;
  return idx.findRelasInRange(fn.section, fn.value, fn.value + 16n).some((r) => r.symbol.name === '__fentry__' || r.symbol.name === 'mcount');
}

/** Sections whose changes need nothing: metadata, debug info, our own side tables. */
function ignorable(s: ElfSection): boolean {
  return (
    (s.flags & SHF_ALLOC) === 0n ||
    /^\.(note|comment|debug|BTF|modinfo|gnu\.linkonce\.this_module|discard|eh_frame)|^__versions$|^\.rela?\./.test(s.name) ||
    specialSection(s.name) !== undefined
  );
}

export function diffObjects(orig: ElfFile, patched: ElfFile, options: DiffOptions = {}): DiffResult {
  const oi = buildIndex(orig);
  const pi = buildIndex(patched);
  const oSyms = elements(orig);
  const pSyms = elements(patched);
  const twins = correlate(oSyms, pSyms, oi, pi, (o, p, t) =>
    o.type === STT_FUNC && p.type === STT_FUNC && o.size === p.size && compareFunctions(o, p, { role: 'orig', idx: oi, twins: t }, { role: 'patched', idx: pi, twins: t }).same,
  );
  const oSide: Side = { role: 'orig', idx: oi, twins };
  const pSide: Side = { role: 'patched', idx: pi, twins };
  const refusals: Refusal[] = [];
  const warnings: string[] = [];
  const functions = new Map<ElfSymbol, FunctionDiff>();
  const data: DataDiff[] = [];

  // compare: every patched function and object against its twin
  for (const p of pSyms) {
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
      functions.set(p, fd);
    } else if (p.type === STT_OBJECT) {
      if (isSpecialStatic(p)) {
        data.push({ ...base, status: 'new', special: true });
        continue;
      }
      if (specialSection(p.section?.name ?? '') || isExportSection(p.section?.name ?? '')) continue;
      const d: DataDiff = { ...base, status: o ? 'same' : 'new' };
      if (o) {
        const how = compareData(o, p, oSide, pSide);
        if (how !== 'same') d.status = 'changed';
        if (how !== 'same' && isInit(p.section)) {
          refusals.push(refusal('INIT_CHANGED', p.name, `init data ${p.name} changed`, { section: d.section }));
        } else if (how !== 'same' && ((p.section?.flags ?? 0n) & SHF_WRITE) !== 0n) {
          refusals.push(
            refusal('DATA_CHANGED', p.name, how === 'size' ? `size of ${p.name} changed (${o.size} → ${p.size} bytes)` : `initial value of ${p.name} changed`, {
              section: d.section,
            }),
          );
        }
      }
      data.push(d);
    }
  }
  for (const o of oSyms) {
    if (twins.forward.has(o) || isSpecialStatic(o)) continue;
    if (o.type === STT_FUNC) functions.set(o, { name: o.name, section: o.section?.name ?? '', status: 'removed', hasFentry: hasFentry(o, oi), local: o.bind === STB_LOCAL });
    else if (o.type === STT_OBJECT && !specialSection(o.section?.name ?? '') && !isExportSection(o.section?.name ?? '')) {
      data.push({ name: o.name, section: o.section?.name ?? '', status: 'removed' });
    }
  }

  // propagate: read-only data that changed is carried as a new copy, so its users must change with it
  const byName = new Map([...functions].map(([sym, fd]) => [sym.name, { sym, fd }]));
  const changedRodata = new Set(data.filter((d) => d.status === 'changed' && !refusals.some((r) => r.symbol === d.name)).map((d) => d.name));
  for (const [sym, fd] of functions) {
    if (fd.status !== 'same' || !sym.section) continue;
    const uses = referencedSymbols(sym, pi).find((r) => changedRodata.has(r.name));
    if (uses) {
      fd.status = 'changed';
      fd.because = `uses changed read-only data ${uses.name}`;
    }
  }
  // a changed .cold/.part piece changes its parent
  for (const fd of functions.values()) {
    if (fd.status !== 'changed' || !isChildPart(fd.name)) continue;
    const parent = byName.get(parentOf(fd.name));
    if (parent && parent.fd.status === 'same') {
      parent.fd.status = 'changed';
      parent.fd.because = `its part ${fd.name} changed`;
    }
  }
  // a changed function that ftrace cannot redirect: patch its callers in this object instead
  const callersOf = (target: ElfSymbol): ElfSymbol[] =>
    [...functions.keys()].filter((f) => f !== target && functions.get(f)?.status !== 'removed' && referencedSymbols(f, pi).includes(target));
  const work = [...functions].filter(([s, fd]) => (fd.status === 'changed' || fd.status === 'new') && !fd.hasFentry && !isInit(s.section)).map(([s]) => s);
  const seen = new Set<ElfSymbol>();
  while (work.length) {
    const sym = work.pop() as ElfSymbol;
    if (seen.has(sym)) continue;
    seen.add(sym);
    const fd = functions.get(sym) as FunctionDiff;
    fd.include = 'carry';
    if (fd.status === 'new') continue; // new code is reached through its (changed) callers
    if (!fd.local) {
      refusals.push(refusal('NO_FENTRY', fd.name, `${fd.name} changed but has no ftrace entry, and its callers live in other objects`, { section: fd.section }));
      continue;
    }
    const callers = callersOf(sym);
    if (callers.length === 0) {
      refusals.push(refusal('NO_FENTRY', fd.name, `${fd.name} changed, has no ftrace entry and no caller in this object to patch instead`, { section: fd.section }));
    }
    for (const c of callers) {
      const cfd = functions.get(c) as FunctionDiff;
      if (cfd.status === 'same') {
        cfd.status = 'changed';
        cfd.because = `calls ${fd.name}, which changed and cannot be redirected itself`;
      }
      if (!cfd.hasFentry) work.push(c);
    }
  }
  for (const [sym, fd] of functions) {
    // init and exit code is refused below, never included
    if ((fd.status === 'changed' || fd.status === 'new') && fd.include === undefined && !isInit(sym.section)) fd.include = fd.status === 'changed' ? 'patch' : 'carry';
  }

  // refuse: init code, exports, module-keyed static branches, comdat, sections we do not know
  for (const [sym, fd] of functions) {
    if (fd.status === 'changed' && isInit(sym.section)) refusals.push(refusal('INIT_CHANGED', fd.name, `${fd.name} is ${sym.section?.name} code and changed`, { section: fd.section }));
    if (fd.status === 'new' && isInit(sym.section)) warnings.push(`new init function ${fd.name} will never run in a live patch`);
    if (options.module && fd.include && fd.status !== 'removed') {
      for (const k of localKeysOf(sym, patched, pi)) {
        // a key the patch brings itself (new, or a per-call-site static) lives in the patch module: fine
        if (k.symbol && (isSpecialStatic(k.symbol) || !twins.backward.has(k.symbol))) continue;
        const code = k.section === '.static_call_sites' ? 'STATIC_CALL_IN_MODULE' : 'STATIC_KEY_IN_MODULE';
        refusals.push(refusal(code, fd.name, `${fd.name} uses ${k.key}, which this module defines (${k.section})`, { section: fd.section }));
      }
    }
  }
  diffSections(orig, patched, oi, pi, refusals);
  // metadata that changed and needs nothing (debug info, notes, our own side tables)
  const ignoredSections = patched.sections
    .filter((ps) => ps.name && ignorable(ps) && !/^\.rela?\.|^\.(symtab|strtab|shstrtab)$/.test(ps.name) && ps.type !== SHT_SYMTAB && ps.type !== SHT_STRTAB)
    .filter((ps) => {
      const os = oi.findSectionByName(ps.name);
      return !os || !sameContents(os, ps);
    })
    .map((ps) => ps.name);

  // collect: one entry per piece of code, its other names as aliases (a global name first)
  for (const [sym, fd] of functions) {
    if (!sym.section || fd.status === 'removed') continue;
    const same = [...functions].filter(([s, f]) => s !== sym && s.section === sym.section && s.value === sym.value && f.status !== 'removed');
    if (!same.length || functions.get(sym) !== fd) continue;
    const all = [[sym, fd] as const, ...same].sort(([a], [b]) => Number(a.bind === STB_LOCAL) - Number(b.bind === STB_LOCAL) || a.name.localeCompare(b.name));
    const keepFd = (all[0] as readonly [ElfSymbol, FunctionDiff])[1];
    keepFd.aliases = all.slice(1).map(([s]) => s.name);
    for (const [s] of all.slice(1)) functions.delete(s);
  }
  const fnList = [...functions.values()];
  const specialEntries: DiffResult['specialEntries'] = {};
  for (const [sym, fd] of functions) {
    if (!fd.include || fd.status === 'removed') continue;
    const groups = entriesOf(sym, patched, pi);
    if (groups.length) specialEntries[fd.name] = groups;
  }
  for (const fd of fnList) if (fd.status === 'removed') warnings.push(`${fd.name} was removed; the running kernel keeps its copy`);
  const patches = fnList.some((f) => f.include === 'patch');
  const verdict = refusals.length ? 'unpatchable' : patches ? 'patchable' : 'no-change';
  if (verdict === 'no-change' && fnList.some((f) => f.status === 'new')) warnings.push('new functions but no changed function calls them: nothing to patch');
  return {
    file: patched.file,
    verdict,
    functions: fnList.sort((a, b) => a.name.localeCompare(b.name)),
    data: data.sort((a, b) => a.name.localeCompare(b.name)),
    refusals,
    specialEntries,
    ignoredSections,
    warnings,
  };
}

/** Section-level changes: exports, COMDAT groups, and allocated sections nobody owns. */
function diffSections(orig: ElfFile, patched: ElfFile, oi: ElfIndex, pi: ElfIndex, refusals: Refusal[]): void {
  const names = (f: ElfFile): Set<string> => new Set(f.sections.map((s) => s.name));
  const on = names(orig);
  const pn = names(patched);
  for (const n of pn) {
    if (isExportSection(n) && n.includes('+') && !on.has(n)) refusals.push(refusal('EXPORT_CHANGED', n.split('+')[1] ?? n, `new export ${n.split('+')[1] ?? n}`, { section: n }));
  }
  for (const n of on) {
    if (isExportSection(n) && n.includes('+') && !pn.has(n)) refusals.push(refusal('EXPORT_CHANGED', n.split('+')[1] ?? n, `export ${n.split('+')[1] ?? n} removed or changed`, { section: n }));
  }
  // COMDAT groups: same signature must keep the same member contents
  for (const g of patched.sections.filter((s) => s.type === SHT_GROUP && s.group)) {
    const sig = g.group?.signature.name ?? '';
    const og = orig.sections.find((s) => s.type === SHT_GROUP && s.group?.signature.name === sig);
    const pm = (g.group?.members ?? []).map((m) => m.name).sort();
    const om = (og?.group?.members ?? []).map((m) => m.name).sort();
    const same = og && pm.join() === om.join() && (g.group?.members ?? []).every((m) => {
      const twin = og.group?.members.find((x) => x.name === m.name);
      return twin && sameContents(twin, m);
    });
    if (!same) refusals.push(refusal('COMDAT_CHANGED', sig, `COMDAT group ${sig} ${og ? 'changed' : 'is new'}`, { section: g.name }));
  }
  // allocated sections with no function or object that changed, and that no table above explains
  for (const ps of patched.sections) {
    if (ignorable(ps) || ps.type === SHT_GROUP || ps.name === '' || isExportSection(ps.name)) continue;
    if (pi.findSymbolsBySection(ps).some((s) => s.type === STT_FUNC || s.type === STT_OBJECT)) continue;
    if ((ps.flags & 0x20n) !== 0n) continue; // SHF_STRINGS: compared through the code that uses them
    if ((ps.flags & 0x10n) !== 0n) continue; // SHF_MERGE constants: likewise
    const os = oi.findSectionByName(ps.name);
    if (!os) continue; // new anonymous data is carried with the code that uses it
    if (!sameContents(os, ps)) {
      if (/^\.(text|rodata|data|bss)(\.|$)/.test(ps.name)) continue; // anonymous code/data: judged through its users
      refusals.push(refusal('UNKNOWN_SECTION_CHANGED', ps.name, `section ${ps.name} changed and rebootless does not know what it holds`, { section: ps.name }));
    }
  }
}

function sameContents(a: ElfSection, b: ElfSection): boolean {
  if (a.size !== b.size) return false;
  if (a.type === SHT_NOBITS || b.type === SHT_NOBITS) return a.type === b.type;
  return Buffer.from(a.data).equals(Buffer.from(b.data));
}
