import { RebootlessError } from '../errors/index.js';
import { summarize, type BlockingTask } from './blockers.js';
import type { RuntimeOptions } from './events.js';
import type { LiveHost } from './host.js';
import type { StackFrame } from './stack.js';
import { transitionPatch, writeEnabled } from './sysfs.js';
import { followTransition, settled, type TransitionTarget } from './transition.js';

// A transition with a bound: follow it until the deadline; past it (or on
// interrupt) reverse it and follow the reversal, so the kernel ends where it
// started. The reversal gets the same bound again.

export type BoundedOutcome =
  | { completed: true; ms: number; seen: BlockingTask[] }
  | { completed: false; why: 'timeout' | 'interrupted'; ms: number; seen: BlockingTask[] };

export interface BoundedOptions extends RuntimeOptions {
  deadline: number;
  match: (f: StackFrame) => boolean;
  /** When the bound expires: reverse (default) or leave it to the caller (force). */
  onExpiry: 'reverse' | 'return';
}

const other = (t: TransitionTarget): TransitionTarget => (t === 'patched' ? 'unpatched' : 'patched');

export async function boundedTransition(h: LiveHost, name: string, target: TransitionTarget, o: BoundedOptions): Promise<BoundedOutcome> {
  const follow = (t: TransitionTarget, deadline: number, signal?: AbortSignal) =>
    followTransition(h, name, t, {
      deadline,
      match: o.match,
      self: process.pid,
      ...(o.intervalMs === undefined ? {} : { intervalMs: o.intervalMs }),
      ...(signal ? { signal } : {}),
      onSnapshot: (snapshot) => o.onEvent?.({ kind: 'transition', snapshot }),
    });
  const first = await follow(target, o.deadline, o.signal);
  const seen = [...first.seen.values()];
  if (first.completed) return { completed: true, ms: first.ms, seen };
  // It may have finished between the last look and now: then there is nothing to reverse.
  if (await settled(h, name, target)) return { completed: true, ms: first.ms, seen };
  const why = o.signal?.aborted ? 'interrupted' : 'timeout';
  if (o.onExpiry === 'return' && why === 'timeout') return { completed: false, why, ms: first.ms, seen };

  o.onEvent?.({ kind: 'reversing', name, why });
  try {
    await writeEnabled(h, name, target === 'unpatched');
  } catch (e) {
    // The kernel finished it (and freed or settled the patch) just before the write.
    if (await settled(h, name, target)) return { completed: true, ms: first.ms, seen };
    throw e;
  }
  // The reversal is not interruptible: stopping half-way is what it exists to prevent.
  const back = await follow(other(target), h.now() + o.timeoutMs);
  if (!back.completed) {
    throw new RebootlessError('REVERSAL_STALLED', {
      name,
      seconds: Math.round(o.timeoutMs / 1000),
      blockers: [...back.seen.values()].map(summarize),
      target: other(target),
    });
  }
  return { completed: false, why, ms: first.ms, seen };
}

/** Waits until no other patch is in transition (the kernel runs one at a time). */
export async function waitForOtherTransition(h: LiveHost, self: string, deadline: number, o: RuntimeOptions): Promise<void> {
  let announced = false;
  for (;;) {
    const busy = await transitionPatch(h);
    if (!busy || busy === self) return;
    if (h.now() >= deadline || o.signal?.aborted) {
      throw new RebootlessError('TRANSITION_BUSY', { patch: busy, seconds: Math.round(o.timeoutMs / 1000) });
    }
    if (!announced) o.onEvent?.({ kind: 'waiting-for-other', patch: busy });
    announced = true;
    await h.sleep(250, o.signal);
  }
}

/** Runs a wait that the signal can cut short; an abort becomes LIVE_INTERRUPTED with what it left behind. */
export async function interruptible<T>(name: string, what: 'applying' | 'reverting', state: string, o: RuntimeOptions, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (o.signal?.aborted) throw new RebootlessError('LIVE_INTERRUPTED', { name, what, state });
    throw e;
  }
}
