import { buildIndex, type ElfIndex } from '../../elf/lookup.js';
import type { ElfFile, ElfSymbol } from '../../elf/model.js';
import { decodedReferences, isPerSiteState, moduleFunctionReferences, type Reference, type Resolver } from './references.js';
import { baseName, describeTarget } from './target.js';
import type { TargetObject, TargetSymbol, Violation } from './types.js';

// Check 3: the references of each replaced function's new code against the
// references its original makes in the running kernel. New code that uses a
// module-local copy of data the original used, or another kernel entity of
// the same base name than the original used, does not do what the source
// says. Functions the module carries along are followed and compared with
// their kernel twin (or, when they have none, with their caller's original).

export interface WalkInput {
  module: ElfFile;
  moduleIndex: ElfIndex;
  resolver: Resolver;
  code: ReadonlyMap<TargetSymbol, Uint8Array>;
  /** Module functions that are the new code of a klp_func: followed through their own klp_func, not as carried code. */
  newCode: ReadonlyMap<ElfSymbol, string>;
}

export interface WalkRoot {
  fn: ElfSymbol;
  twin: TargetSymbol;
  target: TargetObject;
}

export interface WalkResult {
  violations: Violation[];
  needCode: TargetSymbol[];
  /** Kernel data the originals use, per target object. */
  originalData: Map<string, TargetSymbol[]>;
  /** Module sections a COPIED_DATA reference already named. */
  flaggedSections: Set<string>;
  /** Kernel entities the new code refers to. */
  newKernel: Set<TargetSymbol>;
}

const targetIndexes = new WeakMap<ElfFile, ElfIndex>();
const indexOf = (f: ElfFile): ElfIndex => {
  let i = targetIndexes.get(f);
  if (!i) targetIndexes.set(f, (i = buildIndex(f)));
  return i;
};

/** The kernel entities the original `twin` refers to; undefined until its code is read. */
function originalReferences(w: WalkInput, target: TargetObject, twin: TargetSymbol, need: TargetSymbol[]): TargetSymbol[] | undefined {
  if (target.file && twin.elf) {
    const refs = moduleFunctionReferences(indexOf(target.file), twin.elf, w.resolver);
    return refs.flatMap((r) => {
      if (r.kind === 'kernel') return [r.entity];
      const local = r.kind === 'local-function' ? r.function : r.kind === 'local-data' ? r.data : undefined;
      const e = local && target.fromElf(local);
      return e ? [e] : [];
    });
  }
  const code = w.code.get(twin);
  if (!code) {
    need.push(twin);
    return undefined;
  }
  return decodedReferences(target, twin, code).flatMap((r) => (r.kind === 'kernel' ? [r.entity] : []));
}

function groupByBase(entities: readonly TargetSymbol[], only?: (e: TargetSymbol) => boolean): Map<string, TargetSymbol[]> {
  const m = new Map<string, TargetSymbol[]>();
  for (const e of entities) {
    if (only && !only(e)) continue;
    const b = baseName(e.name);
    const list = m.get(b) ?? [];
    if (!list.includes(e)) list.push(e);
    m.set(b, list);
  }
  return m;
}

function compare(fnName: string, target: TargetObject, refs: readonly Reference[], original: readonly TargetSymbol[], r: WalkResult): void {
  const used = new Set(original);
  const data = groupByBase(original, (e) => e.kind === 'data');
  const describe = (e: TargetSymbol): string => describeTarget(e.object === target.name ? target : undefined, e);
  for (const ref of refs) {
    // a function of the same base name is the same source function (gcc may call `foo` instead of
    // `foo.constprop.0` once the call changed): only data has one right instance
    if (ref.kind === 'kernel' && !used.has(ref.entity) && ref.entity.kind === 'data') {
      const twins = data.get(baseName(ref.entity.name));
      if (!twins) continue;
      const expected = twins.map(describe).join(' or ');
      r.violations.push({
        code: 'WRONG_TWIN',
        function: fnName,
        symbol: ref.symbol,
        expected,
        actual: describe(ref.entity),
        message: `${fnName}+0x${ref.offset.toString(16)}: uses ${describe(ref.entity)} where the original uses ${expected}`,
      });
    } else if (ref.kind === 'local-data') {
      if (ref.names.length > 0 && ref.names.every((n) => isPerSiteState(n, ref.section.name))) continue;
      // a copy replaces the kernel's variable; new code that still uses it has a new static of the same base name
      const hit = ref.names.map((n) => data.get(baseName(n))?.filter((e) => !r.newKernel.has(e))).find((x) => x?.length);
      if (!hit) continue;
      r.flaggedSections.add(ref.section.name);
      const expected = hit.map(describe).join(' or ');
      r.violations.push({
        code: 'COPIED_DATA',
        function: fnName,
        symbol: ref.symbol,
        expected,
        actual: `the module's own ${ref.section.name}+0x${ref.at.toString(16)}`,
        message: `${fnName}+0x${ref.offset.toString(16)}: uses the module's own ${ref.section.name} where the original uses the kernel's ${expected}: a copy of kernel data, not the data itself`,
      });
    }
  }
}

export function compareReferences(w: WalkInput, roots: readonly WalkRoot[]): WalkResult {
  const r: WalkResult = { violations: [], needCode: [], originalData: new Map(), flaggedSections: new Set(), newKernel: new Set() };
  const compared: { name: string; target: TargetObject; refs: Reference[]; original: TargetSymbol[] }[] = [];
  const visited = new Set<ElfSymbol>();
  const queue: { fn: ElfSymbol; twin: TargetSymbol | undefined; target: TargetObject; context: TargetSymbol[] }[] = [];
  for (const root of roots) queue.push({ ...root, context: [] });
  while (queue.length) {
    const item = queue.shift() as (typeof queue)[number];
    if (visited.has(item.fn)) continue;
    const original = item.twin ? originalReferences(w, item.target, item.twin, r.needCode) : item.context;
    if (!original) continue;
    visited.add(item.fn);
    const known = r.originalData.get(item.target.name) ?? [];
    known.push(...original.filter((e) => e.kind === 'data' && e.object === item.target.name));
    r.originalData.set(item.target.name, known);
    const refs = moduleFunctionReferences(w.moduleIndex, item.fn, w.resolver);
    const name = w.newCode.get(item.fn) ?? item.fn.name;
    compared.push({ name, target: item.target, refs, original });
    for (const ref of refs) if (ref.kind === 'kernel') r.newKernel.add(ref.entity);
    for (const ref of refs) {
      if (ref.kind !== 'local-function' || visited.has(ref.function) || w.newCode.has(ref.function)) continue;
      const fns = original.filter((e) => e.kind === 'function' && e.object === item.target.name);
      const twin = fns.find((e) => e.name === ref.function.name) ?? fns.find((e) => baseName(e.name) === baseName(ref.function.name));
      queue.push({ fn: ref.function, twin, target: item.target, context: original });
    }
  }
  for (const c of compared) compare(c.name, c.target, c.refs, c.original, r);
  return r;
}
