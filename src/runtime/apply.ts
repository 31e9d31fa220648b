import path from 'node:path';
import { RebootlessError, type BlockerSummary } from '../errors/index.js';
import { hostFrameMatcher, summarize } from './blockers.js';
import { boundedTransition, interruptible, waitForOtherTransition } from './bounded.js';
import type { RuntimeOptions } from './events.js';
import type { LiveHost } from './host.js';
import { runPreLive, type LiveCodeReport } from './live-code.js';
import { readModuleFile, type LivepatchModuleInfo } from './module-file.js';
import { livepatchModules, loadModule, unloadModule } from './modules.js';
import { preflightApply } from './preflight.js';
import { readRecord, removeRecord, writeRecord, type ApplyRecord } from './records.js';
import { readPatch, readPatches, writeForce } from './sysfs.js';

// apply: preflight, load, follow the transition within a bound; past the
// bound reverse it and unload, so the kernel is exactly as it was.

export interface ApplyOptions extends RuntimeOptions {
  /** Follow the transition to its end (default); false returns once the module is loaded. */
  wait: boolean;
  /** Past the bound, switch the remaining tasks without a stack check instead of reversing. Permanent for the patches a replace patch supersedes: their modules can never be removed. */
  force: boolean;
  /** Load without comparing the running code with the release's (loud; recorded). */
  skipRunPre?: boolean;
}

export interface ApplyReport {
  name: string;
  file: string;
  release: string;
  /** applied: every task switched; in-transition: --no-wait returned early; forced: the remaining tasks were forced. */
  outcome: 'applied' | 'in-transition' | 'forced';
  /** insmod, from the call to its return (the kernel has started the transition). */
  loadMs: number;
  /** From the module's load to every task switched. */
  transitionMs: number | null;
  /** Tasks that had a patched function on their stack while the transition ran. */
  blockers: BlockerSummary[];
  notes: string[];
  /** The running code of each replaced function compared with the release's before loading; null: skipped (--skip-run-pre). */
  liveCode: LiveCodeReport | null;
  module: LivepatchModuleInfo;
}

/** Unload after a reversal: the module stays referenced for a moment after the patch is freed. */
const UNLOAD_GRACE_MS = 30_000;

export async function applyPatch(h: LiveHost, koFile: string, o: ApplyOptions): Promise<ApplyReport> {
  const file = path.resolve(koFile);
  const m = await readModuleFile(file);
  const { notes } = await preflightApply(h, m);
  const live = await runPreLive(h, m, o.skipRunPre === true);
  notes.push(live.note);
  for (const text of notes) o.onEvent?.({ kind: 'note', text });
  const note = (text: string): void => {
    notes.push(text);
    o.onEvent?.({ kind: 'note', text });
  };
  // Waiting for another transition and retrying insmod have their own bound; the transition gets the whole timeout.
  const loadDeadline = h.now() + o.timeoutMs;
  await interruptible(m.name, 'applying', 'nothing was loaded', o, () => waitForOtherTransition(h, m.name, loadDeadline, o));
  const before = (await readPatches(h)).map((p) => p.name);

  o.onEvent?.({ kind: 'loading', file });
  const loadStart = h.now();
  await interruptible(m.name, 'applying', 'nothing was loaded', o, () =>
    loadModule(h, file, { deadline: loadDeadline, ...(o.signal ? { signal: o.signal } : {}), onRetry: (reason) => o.onEvent?.({ kind: 'retry', what: 'load', reason }) }),
  );
  const loadMs = h.now() - loadStart;
  const deadline = h.now() + o.timeoutMs;
  const record: ApplyRecord = {
    name: m.name,
    file,
    release: m.release,
    description: m.description,
    cves: m.cves,
    replace: m.replace,
    objects: m.objects,
    loadedAt: new Date(loadStart).toISOString(),
    transitionStartedAt: new Date(h.now()).toISOString(),
    transitionEndedAt: null,
    forced: false,
    liveCode: live.report === null ? 'skipped' : live.report.available ? 'checked' : 'unavailable',
  };
  // The record only feeds status; failing to write it must not leave a transition unwatched.
  const remember = (r: ApplyRecord): Promise<void> => writeRecord(h, r).catch((e: unknown) => note(`could not record the patch in /run/rebootless (${String(e)}); status will lack its description and times`));
  await remember(record);
  const report = (outcome: ApplyReport['outcome'], transitionMs: number | null, blockers: BlockerSummary[]): ApplyReport =>
    ({ name: m.name, file, release: m.release, outcome, loadMs, transitionMs, blockers, notes, liveCode: live.report, module: m });
  if (!o.wait) return report('in-transition', null, []);

  // Modules whose tables could not be read (kpatch builds them at run time): sysfs has the functions now.
  const objects = m.objects.length ? m.objects : ((await readPatch(h, m.name))?.objects ?? []);
  const match = await hostFrameMatcher(h, objects, m.name);
  const r = await boundedTransition(h, m.name, 'patched', { ...o, deadline, match, onExpiry: o.force ? 'return' : 'reverse' });
  const blockers = r.seen.map(summarize);
  if (r.completed) {
    await remember({ ...record, transitionEndedAt: new Date(h.now()).toISOString() });
    for (const old of await leftOverModules(h)) note(`module ${old} is loaded but no longer patching (replaced or disabled); remove it with 'rebootless revert ${old}'`);
    return report('applied', r.ms, blockers);
  }
  if (o.force && r.why === 'timeout') {
    o.onEvent?.({ kind: 'forcing', name: m.name });
    await writeForce(h, m.name);
    const done = await boundedTransition(h, m.name, 'patched', { ...o, deadline: h.now() + 10_000, match, onExpiry: 'return' });
    await remember({ ...record, forced: true, transitionEndedAt: done.completed ? new Date(h.now()).toISOString() : null });
    return report('forced', r.ms, blockers);
  }
  // Reversed: take the module out again.
  o.onEvent?.({ kind: 'unloading', name: m.name });
  await unloadModule(h, m.name, { deadline: h.now() + UNLOAD_GRACE_MS, onRetry: (reason) => o.onEvent?.({ kind: 'retry', what: 'unload', reason }) });
  if ((await readRecord(h, m.name))?.loadedAt === record.loadedAt) await removeRecord(h, m.name);
  // A replace patch that completed just before the reversal has freed the patches it replaced.
  const replaced: string[] = [];
  for (const n of before) if (!(await readPatch(h, n))) replaced.push(n);
  if (replaced.length) throw new RebootlessError('APPLY_REVERSED_REPLACED', { name: m.name, replaced });
  if (r.why === 'interrupted') throw new RebootlessError('LIVE_INTERRUPTED', { name: m.name, what: 'applying', state: 'the transition was reversed and the module unloaded: the kernel is unchanged' });
  throw new RebootlessError('APPLY_TIMED_OUT', { name: m.name, seconds: Math.round(o.timeoutMs / 1000), blockers });
}

/** Livepatch modules still loaded whose patch is gone from sysfs (replaced or disabled). */
async function leftOverModules(h: LiveHost): Promise<string[]> {
  const live = new Set((await readPatches(h)).map((p) => p.name));
  return (await livepatchModules(h)).filter((n) => !live.has(n));
}
