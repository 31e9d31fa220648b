import { hostFrameMatcher, hitFrames, tasksInFunctions } from './blockers.js';
import { RebootlessError } from '../errors/index.js';
import { runPreLive } from './live-code.js';
import type { LiveHost } from './host.js';
import { readModuleFile, type LivepatchModuleInfo } from './module-file.js';
import { requireRoot } from './preflight.js';
import { formatFrame } from './stack.js';

// predict: before loading, which tasks would hold the transition up — those
// with a function the patch replaces on their kernel stack right now.

export interface PredictedBlocker {
  pid: number;
  tid: number;
  comm: string;
  state: string;
  kthread: boolean;
  /** The frames in replaced functions. */
  frames: string[];
  stack: string[];
  /** How the kernel will get this task past it. */
  outlook: string;
}

export interface Prediction {
  name: string;
  release: string;
  functions: string[];
  verdict: 'likely-immediate' | 'likely-delayed';
  summary: string;
  /** Reasons the prediction may not carry over to an apply (e.g. another release). */
  warnings: string[];
  blockers: PredictedBlocker[];
  /** What apply's check of the running code will find (matches: it loads; differs: apply refuses it). */
  liveCode: { verdict: 'matches' | 'differs' | 'unchecked'; note: string };
  module: LivepatchModuleInfo;
}

/** What apply's check of the running code would find (predict runs it without loading anything). */
export async function liveCodeOutlook(h: LiveHost, m: LivepatchModuleInfo): Promise<Prediction['liveCode']> {
  if (m.release !== h.release()) return { verdict: 'unchecked', note: 'not compared: another release is running' };
  try {
    const r = await runPreLive(h, m, false);
    return { verdict: r.report?.available ? 'matches' : 'unchecked', note: r.note };
  } catch (e) {
    if (e instanceof RebootlessError && e.code === 'LIVE_CODE_MISMATCH') return { verdict: 'differs', note: `apply will refuse it: ${e.message}` };
    // a prediction says what it could not see; apply itself stops there
    if (e instanceof RebootlessError && e.code === 'LIVE_CODE_UNREADABLE') return { verdict: 'unchecked', note: `not compared (apply will stop here too): ${e.message}` };
    throw e;
  }
}

function outlook(state: string, kthread: boolean): string {
  if (state === 'D') return 'uninterruptible sleep: blocks until what it waits for completes (signals do not reach it)';
  if (kthread) return 'kernel thread: blocks until it leaves the function; the kernel wakes it after 15 s of waiting';
  if (state === 'S') return 'interruptible sleep: blocks until it wakes; after 15 s the kernel sends it a fake signal, which usually frees it';
  return 'running: switches when it leaves the function or returns to user space';
}

export async function predictPatch(h: LiveHost, file: string): Promise<Prediction> {
  const m = await readModuleFile(file);
  requireRoot(h, 'reading task stacks', `rebootless predict ${file}`);
  const found = await tasksInFunctions(h, await hostFrameMatcher(h, m.objects, m.name), process.pid);
  const blockers = found.map((b) => ({
    pid: b.pid,
    tid: b.tid,
    comm: b.comm,
    state: b.state,
    kthread: b.kthread,
    frames: hitFrames(b),
    stack: b.stack.map(formatFrame),
    outlook: outlook(b.state, b.kthread),
  }));
  const n = blockers.length;
  return {
    name: m.name,
    release: m.release,
    functions: m.objects.flatMap((o) => o.functions.map((f) => (o.name === 'vmlinux' ? f.name : `${o.name}:${f.name}`))),
    verdict: n === 0 ? 'likely-immediate' : 'likely-delayed',
    summary: n === 0 ? 'likely immediate: no task has a replaced function on its stack' : `likely delayed by ${n} task${n === 1 ? '' : 's'} with a replaced function on the stack`,
    warnings: [
      ...(m.release === h.release() ? [] : [`the module was built for ${m.release} but ${h.release()} is running: apply will refuse it`]),
      ...(m.objects.length ? [] : ['no function table could be read from the module, so no task can be named; apply will read the functions from sysfs once loaded']),
    ],
    blockers,
    liveCode: await liveCodeOutlook(h, m),
    module: m,
  };
}
