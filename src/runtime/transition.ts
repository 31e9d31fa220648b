import type { StackFrame } from './stack.js';
import { withStack, type BlockingTask } from './blockers.js';
import type { LiveHost } from './host.js';
import { readPatchFlags } from './sysfs.js';
import { readTasks } from './tasks.js';

// Following a transition: poll sysfs until the kernel says it is done,
// meanwhile reporting the tasks not yet switched and what holds them.

export type TransitionTarget = 'patched' | 'unpatched';

export interface TransitionSnapshot {
  patch: string;
  target: TransitionTarget;
  elapsedMs: number;
  /** Tasks not yet switched to the target. */
  pending: number;
  /** Pending tasks with their stacks, those with patched functions on the stack first. */
  tasks: BlockingTask[];
}

export interface FollowOptions {
  /** Stop waiting at this time (host clock). */
  deadline: number;
  match: (f: StackFrame) => boolean;
  /** This process: never a blocker worth showing. */
  self: number;
  intervalMs?: number;
  signal?: AbortSignal;
  onSnapshot?: (s: TransitionSnapshot) => void;
}

export interface FollowResult {
  completed: boolean;
  ms: number;
  /** The last snapshot taken while the transition ran. */
  last: TransitionSnapshot | undefined;
  /** Every task seen with a patched function on its stack, by tid. */
  seen: Map<number, BlockingTask>;
}

/** Stacks read per poll: early in a transition thousands of tasks may be pending, most leave within a second. */
const MAX_STACKS = 256;

/** Whether the patch reached the target: enabled and settled, or (unpatching) settled disabled or gone. */
export async function settled(h: LiveHost, name: string, target: TransitionTarget): Promise<boolean> {
  const p = await readPatchFlags(h, name);
  if (!p) return target === 'unpatched';
  return !p.transition && p.enabled === (target === 'patched');
}

export async function snapshot(h: LiveHost, name: string, target: TransitionTarget, o: FollowOptions, elapsedMs: number): Promise<TransitionSnapshot> {
  const want = target === 'patched' ? 1 : 0;
  const pending = (await readTasks(h)).filter((t) => t.patchState !== undefined && t.patchState !== -1 && t.patchState !== want);
  const tasks: BlockingTask[] = [];
  for (const t of pending.slice(0, MAX_STACKS)) if (t.pid !== o.self) tasks.push(await withStack(h, t, o.match));
  tasks.sort((a, b) => Number(b.hits.length > 0) - Number(a.hits.length > 0) || a.pid - b.pid);
  return { patch: name, target, elapsedMs, pending: pending.length, tasks };
}

export async function followTransition(h: LiveHost, name: string, target: TransitionTarget, o: FollowOptions): Promise<FollowResult> {
  const start = h.now();
  const seen = new Map<number, BlockingTask>();
  let last: TransitionSnapshot | undefined;
  for (;;) {
    if (await settled(h, name, target)) return { completed: true, ms: h.now() - start, last, seen };
    if (h.now() >= o.deadline || o.signal?.aborted) return { completed: false, ms: h.now() - start, last, seen };
    last = await snapshot(h, name, target, o, h.now() - start);
    for (const t of last.tasks) if (t.hits.length) seen.set(t.tid, t);
    o.onSnapshot?.(last);
    await h.sleep(Math.min(o.intervalMs ?? 250, Math.max(0, o.deadline - h.now())), o.signal);
  }
}
