import { STB_LOCAL } from '../elf/constants.js';
import { findSymtab } from '../elf/edit.js';
import { serializeElf } from '../elf/serialize.js';
import { RebootlessError } from '../errors/index.js';
import { extractPatchObject, type PatchObject } from '../klp/extract.js';
import { kernelResolver, symposOf } from '../klp/kernel-refs.js';
import type { KlpCallbacks, KlpObject } from '../klp/module-source.js';
import type { PatchState } from '../diff/types.js';
import type { CheckedObject, GeneratedPatch, KernelFacts } from './types.js';

// Stage 7, generate: for each changed object, the patch object (changed and
// new functions, new data, side-table entries) and the klp_func rows naming
// the functions it replaces. Every kernel symbol it names, and each
// function's sympos, comes from one resolver per object (klp/kernel-refs.ts).

export function generate(changed: readonly CheckedObject[], kernel: KernelFacts): GeneratedPatch {
  const g: GeneratedPatch = { objects: [], placeholders: [], patchObjects: [], namespaces: [], states: [], built: [], warnings: [] };
  const namespaces = new Set<string>();
  const patchGlobals = newGlobals(changed);
  for (const [n, c] of changed.entries()) {
    const module = c.owner.kind === 'module' ? c.owner.name : null;
    const moduleSymbols = c.targetFile ? (findSymtab(c.targetFile)?.symbols ?? []) : undefined;
    const resolve = kernelResolver({
      object: c.orig,
      sourcePath: c.source,
      module,
      vmlinuxSymbols: kernel.vmlinuxSymbols,
      exports: kernel.exports,
      ...(moduleSymbols ? { moduleSymbols } : {}),
      ...(c.runPre ? { bound: c.runPre.bound } : {}),
    });
    const po = extractPatchObject(c.patched, c.diff, { resolve, origSections: new Set(c.orig.sections.map((s) => s.name)), placeholderBase: `${n}_`, objectName: c.object, patchGlobals });
    g.warnings.push(...po.warnings, ...c.diff.warnings);
    g.placeholders.push(...po.placeholders);
    for (const s of findSymtab(po.file)?.symbols ?? []) {
      const ns = s.section === null && s.name ? kernel.exports.get(s.name)?.namespace : undefined;
      if (ns) namespaces.add(ns);
    }
    const funcs = po.functions.map((f) => ({ oldName: f.oldName, newSymbol: f.newSymbol, sympos: symposOf(resolve({ name: f.oldName, local: f.local })) }));
    addFuncs(g.objects, module, funcs);
    addCallbacks(g.objects, module, po.callbacks, c.object);
    addStates(g.states, c.diff.states, c.object);
    g.patchObjects.push(serializeElf(po.file));
    g.built.push({
      source: c.source,
      object: c.object,
      owner: c.owner,
      diff: c.diff,
      patched: funcs.map((f) => ({ name: f.oldName, sympos: f.sympos })),
      carried: c.diff.functions.filter((f) => f.include === 'carry').map((f) => f.name),
      runPre: c.runPre?.checks ?? 'skipped',
      ...(c.created ? { created: true } : {}),
    });
  }
  g.namespaces = [...namespaces];
  return g;
}

/**
 * The globals the patch's objects define that the release does not have (new functions and data, a new file's
 * all): one patch object may use another's. A name defined twice would not link in the kernel either.
 */
function newGlobals(changed: readonly CheckedObject[]): Set<string> {
  const owner = new Map<string, string>();
  for (const c of changed) {
    const globals = new Set((findSymtab(c.patched)?.symbols ?? []).filter((s) => s.section && s.bind !== STB_LOCAL).map((s) => s.name));
    const names = [...c.diff.functions.filter((f) => f.status === 'new' && f.include), ...c.diff.data.filter((d) => d.status === 'new')].map((e) => e.name).filter((n) => globals.has(n));
    for (const name of names) {
      const other = owner.get(name);
      if (other) throw new RebootlessError('BUILD_NEW_GLOBAL_TWICE', { symbol: name, objects: [other, c.object] });
      owner.set(name, c.object);
    }
  }
  return new Set(owner.keys());
}

/** The callbacks an object registers, on its target's klp_object: one of each kind per target. */
function addCallbacks(objects: KlpObject[], module: string | null, callbacks: PatchObject['callbacks'], object: string): void {
  if (!callbacks.length) return;
  let target = objects.find((x) => x.module === module);
  if (!target) objects.push((target = { module, funcs: [] }));
  const set: KlpCallbacks = (target.callbacks ??= {});
  for (const c of callbacks) {
    if (set[c.kind] !== undefined) throw new RebootlessError('BUILD_CALLBACK_TWICE', { kind: c.kind, target: module ?? 'vmlinux', object });
    set[c.kind] = c.symbol;
  }
}

/** The patch's states: one entry per id (the same id at two versions is an error). */
function addStates(states: PatchState[], declared: readonly PatchState[], object: string): void {
  for (const s of declared) {
    const have = states.find((x) => x.id === s.id);
    if (have && have.version !== s.version) throw new RebootlessError('BUILD_STATE_CONFLICT', { id: s.id, versions: `${have.version} and ${s.version}`, object });
    if (!have) states.push(s);
  }
}

/** One klp_object per target: functions of several source files of one module share it. */
function addFuncs(objects: KlpObject[], module: string | null, funcs: KlpObject['funcs']): void {
  const existing = objects.find((x) => x.module === module);
  if (existing) existing.funcs.push(...funcs);
  else objects.push({ module, funcs });
}
