import { hostFrameMatcher, hitFrames } from './blockers.js';
import type { LiveHost } from './host.js';
import { listInstalled, type InstalledPatch } from './installed.js';
import { livepatchModules, moduleTaint } from './modules.js';
import { readRecords, type ApplyRecord } from './records.js';
import { livepatchSupported, readPatches, type SysfsObject, type SysfsPatch } from './sysfs.js';
import { decodeTaint, readTaint } from './taint.js';
import { snapshot } from './transition.js';

// What is patched on this host: sysfs for the facts the kernel keeps, the
// apply records for what it does not (description, CVEs, times), /sys/module
// for modules whose patch is gone. The JSON form is a stable schema.

export const STATUS_SCHEMA = 'rebootless.status/1';

export type PatchState = 'patching' | 'enabled' | 'unpatching' | 'disabled' | 'module-only';

export interface PatchStatus {
  name: string;
  state: PatchState;
  enabled: boolean;
  transition: {
    running: boolean;
    /** ISO time the transition started, when rebootless started it. */
    since: string | null;
    seconds: number | null;
    /** While it runs: tasks not yet switched that have a switched function on their stack. */
    blockers: StatusBlocker[];
    /** While it runs: how many tasks are not switched yet; null when not root (patch_state and stacks are root-only). */
    pending: number | null;
  };
  objects: SysfsObject[];
  description: string | null;
  cves: string[];
  replace: boolean | null;
  forced: boolean;
  /** Whether apply compared the running code with the release's before loading; null when not loaded by rebootless (or by an older one). */
  liveCode: 'checked' | 'skipped' | 'unavailable' | null;
  /** ISO times; null when the patch was not loaded by rebootless. */
  loadedAt: string | null;
  appliedAt: string | null;
  file: string | null;
  /** /sys/module/NAME/taint letters. */
  moduleTaint: string;
  installed: boolean;
}

export interface StatusBlocker {
  pid: number;
  tid: number;
  comm: string;
  state: string;
  /** The frames in switched functions, as the stack file shows them. */
  frames: string[];
}

export interface HostStatus {
  schema: typeof STATUS_SCHEMA;
  release: string;
  livepatch: boolean;
  taint: { mask: number; flags: { letter: string; meaning: string }[] };
  patches: PatchStatus[];
  installed: InstalledPatch[];
}

function stateOf(p: SysfsPatch | undefined): PatchState {
  if (!p) return 'module-only';
  if (p.transition) return p.enabled ? 'patching' : 'unpatching';
  // disabled and settled: the kernel is about to free it
  return p.enabled ? 'enabled' : 'disabled';
}

const secondsSince = (h: LiveHost, since: string | null): number | null => (since ? Math.max(0, Math.round((h.now() - Date.parse(since)) / 1000)) : null);

async function transitionOf(h: LiveHost, p: SysfsPatch | undefined, rec: ApplyRecord | undefined): Promise<PatchStatus['transition']> {
  if (!p?.transition) return { running: false, since: null, seconds: null, blockers: [], pending: 0 };
  const since = rec?.transitionStartedAt ?? null;
  const objects = rec?.objects ?? p.objects;
  if (!h.isRoot()) return { running: true, since, seconds: secondsSince(h, since), blockers: [], pending: null };
  const s = await snapshot(h, p.name, p.enabled ? 'patched' : 'unpatched', { deadline: 0, self: process.pid, match: await hostFrameMatcher(h, objects, p.name) }, 0);
  return {
    running: true,
    since,
    seconds: secondsSince(h, since),
    blockers: s.tasks.filter((t) => t.hits.length).map((t) => ({ pid: t.pid, tid: t.tid, comm: t.comm, state: t.state, frames: hitFrames(t) })),
    pending: s.pending,
  };
}

function patchStatus(name: string, p: SysfsPatch | undefined, rec: ApplyRecord | undefined, taint: string, installed: boolean, transition: PatchStatus['transition']): PatchStatus {
  return {
    name,
    state: stateOf(p),
    enabled: p?.enabled ?? false,
    transition,
    objects: p?.objects ?? [],
    description: rec?.description ?? null,
    cves: rec?.cves ?? [],
    replace: rec?.replace ?? null,
    forced: rec?.forced ?? false,
    liveCode: rec?.liveCode ?? null,
    loadedAt: rec?.loadedAt ?? null,
    appliedAt: rec?.transitionEndedAt ?? null,
    file: rec?.file ?? null,
    moduleTaint: taint,
    installed,
  };
}

export async function hostStatus(h: LiveHost): Promise<HostStatus> {
  const release = h.release();
  const [sysfs, records, modules, installed, mask] = await Promise.all([readPatches(h), readRecords(h), livepatchModules(h), listInstalled(h), readTaint(h)]);
  const order = records.map((r) => r.name);
  const names = [...new Set([...sysfs.map((p) => p.name), ...modules])].sort(
    (a, b) => (order.indexOf(a) + 1 || Infinity) - (order.indexOf(b) + 1 || Infinity) || a.localeCompare(b),
  );
  const isInstalled = new Set(installed.filter((i) => i.release === release).map((i) => i.name));
  const patches: PatchStatus[] = [];
  for (const n of names) {
    const p = sysfs.find((x) => x.name === n);
    const rec = records.find((r) => r.name === n);
    patches.push(patchStatus(n, p, rec, await moduleTaint(h, n), isInstalled.has(n), await transitionOf(h, p, rec)));
  }
  return {
    schema: STATUS_SCHEMA,
    release,
    livepatch: await livepatchSupported(h),
    taint: { mask, flags: decodeTaint(mask).map(({ letter, meaning }) => ({ letter, meaning })) },
    patches,
    installed,
  };
}
