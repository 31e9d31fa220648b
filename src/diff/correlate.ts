import { findRelaTarget } from '../arch/x86_64/rela-target.js';
import { STB_LOCAL, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION } from '../elf/constants.js';
import { findSymtab } from '../elf/edit.js';
import type { ElfIndex } from '../elf/lookup.js';
import type { ElfFile, ElfRela, ElfSection, ElfSymbol } from '../elf/model.js';
import { isSpecialStatic, nameShape } from './names.js';

// Pairing the symbols of two compilations of one source file: `twin` maps an
// orig symbol to its patched counterpart and back.

export interface Twins {
  /** orig → patched */
  forward: Map<ElfSymbol, ElfSymbol>;
  /** patched → orig */
  backward: Map<ElfSymbol, ElfSymbol>;
}

/** Defined functions and data objects: what the differ classifies. */
export function elements(file: ElfFile): ElfSymbol[] {
  const symtab = findSymtab(file);
  return (symtab?.symbols ?? []).filter((s) => s.section !== null && (s.type === STT_FUNC || s.type === STT_OBJECT) && s.name !== '');
}

function link(t: Twins, o: ElfSymbol, p: ElfSymbol): void {
  t.forward.set(o, p);
  t.backward.set(p, o);
}

function unique<T>(list: T[]): T[] {
  return [...new Set(list)];
}

function groupBy(syms: ElfSymbol[], key: (s: ElfSymbol) => string): Map<string, ElfSymbol[]> {
  const m = new Map<string, ElfSymbol[]>();
  for (const s of syms) {
    const k = key(s);
    const list = m.get(k);
    if (list) list.push(s);
    else m.set(k, [s]);
  }
  return m;
}

/**
 * The symbol a relocation points at. The assembler rewrites references to
 * local symbols as section symbol + offset; look through those to the
 * function or object at that offset (for PC-relative fields in code, from the
 * end of the instruction: see arch/x86_64/rela-target.ts).
 */
export function resolveRelaTarget(r: ElfRela, idx: ElfIndex, base?: ElfSection): ElfSymbol {
  return findRelaTarget(idx, r, base).symbol;
}

/**
 * The local data objects (static variables) each function refers to, in relocation order, worked
 * out once per function: what pairs static locals. A reference through a section symbol is
 * resolved only when that section holds a local object (resolving means decoding the code).
 */
function localObjectReferences(idx: ElfIndex): (fn: ElfSymbol) => ElfSymbol[] {
  const holders = new Set<ElfSection>();
  for (const s of findSymtab(idx.file)?.symbols ?? []) if (isLocalObject(s) && s.section) holders.add(s.section);
  const known = new Map<ElfSymbol, ElfSymbol[]>();
  return (fn) => {
    let refs = known.get(fn);
    if (refs) return refs;
    refs = [];
    const sec = fn.section;
    if (sec) {
      for (const r of idx.findRelasInRange(sec, fn.value, fn.value + BigInt(Math.max(1, fn.size)))) {
        const sym = r.symbol;
        // what resolveRelaTarget would answer: the symbol itself, or the one at the place a section symbol means
        const throughSection = sym.section && (sym.type === STT_SECTION || sym.type === STT_NOTYPE) ? sym.section : undefined;
        if (throughSection && !holders.has(throughSection)) continue;
        const target = throughSection ? resolveRelaTarget(r, idx, sec) : sym;
        if (isLocalObject(target)) refs.push(target);
      }
    }
    known.set(fn, refs);
    return refs;
  };
}

const isLocalObject = (s: ElfSymbol): boolean => s.bind === STB_LOCAL && s.type === STT_OBJECT;

/** For each symbol, the functions of `symbols` that refer to it, in the order of `symbols`. */
function functionsReferring(symbols: ElfSymbol[], refs: (fn: ElfSymbol) => ElfSymbol[]): Map<ElfSymbol, ElfSymbol[]> {
  const users = new Map<ElfSymbol, ElfSymbol[]>();
  for (const f of symbols) {
    if (f.type !== STT_FUNC) continue;
    for (const target of new Set(refs(f))) {
      const list = users.get(target);
      if (list) list.push(f);
      else users.set(target, [f]);
    }
  }
  return users;
}

/** Whether two symbols have identical contents, given the twins known so far. */
export type SameBody = (o: ElfSymbol, p: ElfSymbol, twins: Twins) => boolean;

export function correlate(orig: ElfSymbol[], patched: ElfSymbol[], origIdx: ElfIndex, patchedIdx: ElfIndex, sameBody?: SameBody): Twins {
  const t: Twins = { forward: new Map(), backward: new Map() };
  const usable = (s: ElfSymbol): boolean => !isSpecialStatic(s);
  const o = orig.filter(usable);
  const p = patched.filter(usable);

  // 1. same name, same kind, unique on both sides (static locals wait for step 3: their numbers say nothing)
  const staticLocal = (s: ElfSymbol): boolean => s.bind === STB_LOCAL && s.type === STT_OBJECT && /^[^.]+\.\d+$/.test(s.name);
  // numbered clones (`work.constprop.0`) too when several share a shape: gcc renumbers them
  const shapeCount = (list: ElfSymbol[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const s of list) m.set(nameShape(s.name), (m.get(nameShape(s.name)) ?? 0) + 1);
    return m;
  };
  const oShapes = shapeCount(o);
  const pShapes = shapeCount(p);
  const ambiguousClone = (s: ElfSymbol): boolean => /\.\d+/.test(s.name) && ((oShapes.get(nameShape(s.name)) ?? 0) > 1 || (pShapes.get(nameShape(s.name)) ?? 0) > 1);
  const byNameFirst = (s: ElfSymbol): boolean => !staticLocal(s) && !ambiguousClone(s);
  const oByName = groupBy(o.filter(byNameFirst), (s) => `${s.type}:${s.name}`);
  const pByName = groupBy(p.filter(byNameFirst), (s) => `${s.type}:${s.name}`);
  for (const [k, os] of oByName) {
    const ps = pByName.get(k);
    if (os.length === 1 && ps?.length === 1) link(t, os[0] as ElfSymbol, ps[0] as ElfSymbol);
  }

  // 2. same shape (compiler renumbering: .constprop.N, .isra.N, __UNIQUE_ID_*N), unique among the unpaired
  const free = (list: ElfSymbol[], m: Map<ElfSymbol, ElfSymbol>): ElfSymbol[] => list.filter((s) => !m.has(s));
  const oShape = groupBy(free(o, t.forward), (s) => `${s.type}:${nameShape(s.name)}`);
  const pShape = groupBy(free(p, t.backward), (s) => `${s.type}:${nameShape(s.name)}`);
  for (const [k, os] of oShape) {
    const ps = pShape.get(k);
    if (!ps || staticLocal(os[0] as ElfSymbol)) continue;
    if (os.length === 1 && ps.length === 1) link(t, os[0] as ElfSymbol, ps[0] as ElfSymbol);
    else if (sameBody) {
      // several clones of one function: pair those whose code is identical
      for (const p1 of ps) {
        const matches = os.filter((o1) => !t.forward.has(o1) && sameBody(o1, p1, t));
        if (matches.length === 1) link(t, matches[0] as ElfSymbol, p1);
      }
    }
    // what content could not pair, the name still may
    for (const p1 of ps) {
      const o1 = os.find((x) => x.name === p1.name);
      if (o1 && !t.forward.has(o1) && !t.backward.has(p1)) link(t, o1, p1);
    }
  }

  // 3. static locals through the twinned functions that use them: first by the
  // order a function refers to them (one function with several `pr_debug`
  // descriptors of one shape), then by a unique candidate
  const isFreeStatic = (s: ElfSymbol, m: Map<ElfSymbol, ElfSymbol>): boolean => staticLocal(s) && !m.has(s) && usable(s);
  const origRefs = localObjectReferences(origIdx);
  const patchedRefs = localObjectReferences(patchedIdx);
  for (const [of, pf] of [...t.forward].filter(([x]) => x.type === STT_FUNC)) {
    const oRefs = unique(origRefs(of).filter((r) => isFreeStatic(r, t.forward)));
    const pRefs = unique(patchedRefs(pf).filter((r) => isFreeStatic(r, t.backward)));
    for (const shape of new Set(pRefs.map((r) => nameShape(r.name)))) {
      const os = oRefs.filter((r) => nameShape(r.name) === shape && !t.forward.has(r));
      const ps = pRefs.filter((r) => nameShape(r.name) === shape && !t.backward.has(r));
      if (os.length === ps.length && os.length > 1) os.forEach((o1, i) => link(t, o1, ps[i] as ElfSymbol));
    }
  }
  let usersOf: Map<ElfSymbol, ElfSymbol[]> | undefined; // made when first needed
  for (let round = 0; round < 3; round++) {
    let progress = false;
    for (const ps of free(p, t.backward)) {
      if (ps.bind !== STB_LOCAL || ps.type !== STT_OBJECT) continue;
      const shape = nameShape(ps.name);
      const candidates = new Set<ElfSymbol>();
      for (const u of (usersOf ??= functionsReferring(patched, patchedRefs)).get(ps) ?? []) {
        const twin = t.backward.get(u);
        if (!twin) continue;
        for (const r of origRefs(twin)) {
          if (r.type === STT_OBJECT && r.bind === STB_LOCAL && nameShape(r.name) === shape && !t.forward.has(r) && usable(r)) candidates.add(r);
        }
      }
      if (candidates.size === 1) {
        link(t, [...candidates][0] as ElfSymbol, ps);
        progress = true;
      }
    }
    if (!progress) break;
  }
  return t;
}
