import { RebootlessError, type BlockerSummary } from '../errors/index.js';
import { hostFrameMatcher, summarize } from './blockers.js';
import { boundedTransition, interruptible, waitForOtherTransition } from './bounded.js';
import type { RuntimeOptions } from './events.js';
import type { LiveHost } from './host.js';
import { moduleName } from '../util/module-name.js';
import { livepatchModules, moduleLoaded, unloadModule } from './modules.js';
import { requireLivepatch, requireRoot } from './preflight.js';
import { readRecord, readRecords, removeRecord, writeRecord, type ApplyRecord } from './records.js';
import { readPatch, readPatches, writeEnabled } from './sysfs.js';

// revert: disable a patch, follow the transition back within a bound (past
// it, re-enable: the kernel stays as it was), then unload the module.

export interface RevertReport {
  name: string;
  /** reverted: disabled and unloaded; unloaded: only a left-over module (its patch was already gone) was removed. */
  outcome: 'reverted' | 'unloaded';
  transitionMs: number | null;
  blockers: BlockerSummary[];
}

const UNLOAD_MIN_MS = 10_000;

async function loadedNames(h: LiveHost): Promise<string[]> {
  return [...new Set([...(await readPatches(h)).map((p) => p.name), ...(await livepatchModules(h))])].sort();
}

export async function revertPatch(h: LiveHost, rawName: string, o: RuntimeOptions): Promise<RevertReport> {
  const name = moduleName(rawName);
  requireRoot(h, 'reverting a live patch', `rebootless revert ${name}`);
  await requireLivepatch(h);
  const deadline = h.now() + o.timeoutMs;
  const unload = async (): Promise<void> => {
    o.onEvent?.({ kind: 'unloading', name });
    await unloadModule(h, name, { deadline: Math.max(deadline, h.now() + UNLOAD_MIN_MS), onRetry: (reason) => o.onEvent?.({ kind: 'retry', what: 'unload', reason }) });
    await removeRecord(h, name);
  };

  const patch = await readPatch(h, name);
  if (!patch) {
    if (!(await moduleLoaded(h, name)) || !(await livepatchModules(h)).includes(name)) {
      throw new RebootlessError('PATCH_NOT_LOADED', { name, loaded: await loadedNames(h) });
    }
    await unload();
    return { name, outcome: 'unloaded', transitionMs: null, blockers: [] };
  }

  const objects = (await readRecord(h, name))?.objects ?? patch.objects.map((ob) => ({ name: ob.name, functions: ob.functions }));
  const match = await hostFrameMatcher(h, objects, name);
  if (patch.transition) {
    // Still patching (apply --no-wait): reversing it is the revert.
    if (patch.enabled) {
      o.onEvent?.({ kind: 'disabling', name });
      await writeEnabled(h, name, false);
    }
  } else {
    await interruptible(name, 'reverting', 'nothing was changed', o, async () => {
      await waitForOtherTransition(h, name, deadline, o);
      o.onEvent?.({ kind: 'disabling', name });
      await disableWithRetry(h, name, deadline, o);
    });
  }
  const rec = await readRecord(h, name);
  // The record only feeds status: a failure to update it must not stop the revert.
  const remember = async (r: ApplyRecord): Promise<void> => writeRecord(h, r).catch(() => undefined);
  if (rec) await remember({ ...rec, transitionStartedAt: new Date(h.now()).toISOString(), transitionEndedAt: null });
  // Waiting for another transition does not eat into this one's bound.
  const r = await boundedTransition(h, name, 'unpatched', { ...o, deadline: h.now() + o.timeoutMs, match, onExpiry: 'reverse' });
  const blockers = r.seen.map(summarize);
  if (!r.completed) {
    if (rec) await remember({ ...rec, transitionEndedAt: new Date(h.now()).toISOString() });
    if (r.why === 'interrupted') throw new RebootlessError('LIVE_INTERRUPTED', { name, what: 'reverting', state: 'the transition was reversed: the patch is still fully applied' });
    throw new RebootlessError('REVERT_TIMED_OUT', { name, seconds: Math.round(o.timeoutMs / 1000), blockers });
  }
  await unload();
  return { name, outcome: 'reverted', transitionMs: r.ms, blockers };
}

/** Writing 0 fails with EBUSY while another patch's transition runs; wait it out. */
async function disableWithRetry(h: LiveHost, name: string, deadline: number, o: RuntimeOptions): Promise<void> {
  for (;;) {
    try {
      await writeEnabled(h, name, false);
      return;
    } catch (e) {
      const busy = e instanceof RebootlessError && e.code === 'SYSFS_WRITE_FAILED' && (e.data as { reason: string }).reason === 'EBUSY';
      if (!busy || h.now() >= deadline) throw e;
      o.onEvent?.({ kind: 'retry', what: 'disable', reason: 'another transition is running' });
      await h.sleep(250, o.signal);
    }
  }
}

/** Every loaded patch, newest first (stacking order reversed), then left-over modules. */
export async function revertAll(h: LiveHost, o: RuntimeOptions): Promise<RevertReport[]> {
  requireRoot(h, 'reverting live patches', 'rebootless revert --all');
  await requireLivepatch(h);
  const order = (await readRecords(h)).map((r) => r.name);
  const names = (await loadedNames(h)).sort((a, b) => order.indexOf(b) - order.indexOf(a));
  const out: RevertReport[] = [];
  for (const n of names) out.push(await revertPatch(h, n, o));
  return out;
}
