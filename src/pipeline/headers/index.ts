import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../../errors/index.js';
import { builtObjects, objectFor, type PatchedHeader, type UnitCompiler } from '../../kbuild/compile.js';
import { vmlinuxUnits } from '../../kernel/header-users.js';
import type { KernelWorkspace } from '../../kernel/manifest.js';
import type { HeaderReport, PatchedSource } from '../types.js';
import { headerChange } from './header-changes.js';
import { headerReach, searchRoots } from './reach.js';

// Stage 2, headers: a diff that changes headers compiles, besides its own .c
// files, every built unit whose code the header change can reach
// (reach.ts), each as released and with the patched headers shadowing the
// tree's (kbuild/compile.ts); the differ then keeps those that changed.
// A change to a record's layout is refused: objects of the old layout live
// on in the running kernel.

/** Past this many units to compile, a header change is refused as too wide. */
export const MAX_HEADER_UNITS = 400;

export interface HeaderPlan {
  headers: PatchedHeader[];
  /** Units to compile besides the diff's own .c files (source unchanged). */
  units: PatchedSource[];
  report: HeaderReport;
}

export const isHeader = (p: string): boolean => p.endsWith('.h');

export async function planHeaders(i: {
  ws: KernelWorkspace;
  compiler: UnitCompiler;
  headers: readonly PatchedSource[];
  files: readonly PatchedSource[];
}): Promise<HeaderPlan> {
  const { ws, compiler } = i;
  const sig = compiler.signal ? { signal: compiler.signal } : {};
  const built = await builtLayout(ws, compiler);
  const roots = searchRoots([...built.vmlinux].map((u) => path.posix.dirname(u)).concat(built.moduleDirs, i.headers.map((h) => path.posix.dirname(h.path))));
  // a layout change names the built units that mention the record, however it was found (its members, or a macro sizing it)
  const recordUsers = async (record: string): Promise<string[]> =>
    builtSources(built, compiler, (await headerReach(ws.sourceTree, roots, new Map(), new Set([record.split(' ')[1] as string]), new Set(), { ...sig, maxRounds: 1 })).sources);
  const names = new Set<string>();
  const layoutNames = new Set<string>();
  for (const h of i.headers) {
    const change = headerChange(h.orig, h.patched);
    const layout = change.layouts[0];
    if (layout) throw new RebootlessError('LAYOUT_CHANGED', { header: h.path, ...layout, units: await recordUsers(layout.record) });
    change.names.forEach((n) => names.add(n));
    change.layoutNames.forEach((n) => layoutNames.add(n));
  }
  const t0 = Date.now();
  const patched = new Map(i.headers.map((h) => [h.path, h.patched]));
  const reach = await headerReach(ws.sourceTree, roots, patched, names, layoutNames, sig);
  const t1 = Date.now();
  const headerPaths = i.headers.map((h) => h.path);
  const layout = reach.layouts[0];
  if (layout) {
    throw new RebootlessError('LAYOUT_CHANGED', { ...layout, units: await recordUsers(layout.record) });
  }
  const own = new Set(i.files.map((f) => f.path));
  const candidates = reach.sources.filter((s) => !own.has(s));
  // vmlinux's units alone can be too many: then no dry run of module folders is needed to say so
  const inVmlinux = candidates.filter((s) => built.vmlinux.has(s)).length;
  const compiled = reach.complete && inVmlinux <= MAX_HEADER_UNITS ? await builtSources(built, compiler, candidates) : [];
  if (!reach.complete || inVmlinux > MAX_HEADER_UNITS || compiled.length > MAX_HEADER_UNITS) {
    throw new RebootlessError('HEADER_CHANGE_TOO_WIDE', { headers: headerPaths, names: reach.names.length, units: Math.max(compiled.length, inVmlinux), limit: MAX_HEADER_UNITS });
  }
  const units: PatchedSource[] = [];
  for (const s of compiled) {
    const text = await fsp.readFile(path.join(ws.sourceTree, s), 'utf8');
    units.push({ path: s, orig: text, patched: text });
  }
  return {
    headers: i.headers.map((h) => ({ path: h.path, content: h.patched })),
    units,
    report: { headers: headerPaths, names: reach.names.length, considered: candidates.length, compiled, timings: { search: t1 - t0, built: Date.now() - t1 } },
  };
}

interface BuiltLayout {
  /** vmlinux's units (their line tables). */
  vmlinux: Set<string>;
  /** The folders holding a module (modules.order). */
  moduleDirs: string[];
}

async function builtLayout(ws: KernelWorkspace, compiler: UnitCompiler): Promise<BuiltLayout> {
  const order = await fsp.readFile(path.join(ws.modulesDir, 'modules.order'), 'utf8').catch(() => '');
  return {
    vmlinux: await vmlinuxUnits(ws, compiler.cacheDir),
    moduleDirs: [...new Set(order.split('\n').filter(Boolean).map((k) => path.posix.dirname(k.replace(/^kernel\//, ''))))],
  };
}

/**
 * The sources the release builds, of `sources`: vmlinux's units, and those
 * a module's folder builds, asked of kbuild by one dry run per folder.
 */
async function builtSources(built: BuiltLayout, compiler: UnitCompiler, sources: readonly string[]): Promise<string[]> {
  const out = sources.filter((s) => built.vmlinux.has(s));
  const rest = sources.filter((s) => !built.vmlinux.has(s));
  const dirs = built.moduleDirs.filter((d) => rest.some((s) => s.startsWith(`${d}/`))).sort();
  const records = await builtObjects(compiler, dirs, rest.map(objectFor));
  out.push(...rest.filter((s) => records.has(objectFor(s))));
  return out.sort();
}
