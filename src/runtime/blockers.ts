import type { BlockerSummary } from '../errors/index.js';
import type { LiveHost } from './host.js';
import { livepatchModules } from './modules.js';
import type { KlpTableObject } from '../elf/klp-tables.js';
import { NEW_CODE_PREFIX, newCodeSymbol } from '../elf/livepatch.js';
import { formatFrame, type StackFrame } from './stack.js';
import { readTaskStack, readTasks, type LiveTask } from './tasks.js';

// Which tasks hold a transition up, and which patched functions on their
// stacks are why.

export interface BlockingTask extends LiveTask {
  stack: StackFrame[];
  /** Indexes into `stack` of the frames in functions the transition switches. */
  hits: number[];
}


/**
 * A predicate for frames in functions the patch replaces (old code, or an earlier
 * patch's new code for them: stacked on it, that is what the kernel checks) or
 * provides (new code, in the patch module). `patchModules` are the loaded
 * livepatch modules: a frame in one of them named like a replaced function is
 * earlier new code too, whatever tool built it.
 */
export function frameMatcher(objects: readonly KlpTableObject[], patchModule: string, patchModules: ReadonlySet<string> = new Set()): (f: StackFrame) => boolean {
  const byObject = new Map<string, Set<string>>();
  for (const o of objects) {
    const set = byObject.get(o.name) ?? new Set<string>();
    for (const fn of o.functions) set.add(fn.name);
    byObject.set(o.name, set);
  }
  const replaced = new Set(objects.flatMap((o) => o.functions.map((fn) => fn.name)));
  // rebootless's new code carries the replaced name as a C identifier (`foo.part.0` → `__rebootless_new_foo_part_0`)
  const newCode = new Set([...replaced].map(newCodeSymbol));
  return (f) => {
    if (f.module === patchModule) return true;
    // New code lives in its patch module, not in the object it patches: match it by name alone.
    if (f.func.startsWith(NEW_CODE_PREFIX)) return newCode.has(f.func);
    if (f.module !== undefined && patchModules.has(f.module)) return replaced.has(f.func);
    return byObject.get(f.module ?? 'vmlinux')?.has(f.func) ?? false;
  };
}

/** frameMatcher with the livepatch modules loaded on the host now (what apply, revert, predict and status all want). */
export async function hostFrameMatcher(h: LiveHost, objects: readonly KlpTableObject[], patchModule: string): Promise<(f: StackFrame) => boolean> {
  return frameMatcher(objects, patchModule, new Set(await livepatchModules(h)));
}

export async function withStack(h: LiveHost, t: LiveTask, match: (f: StackFrame) => boolean): Promise<BlockingTask> {
  const stack = await readTaskStack(h, t);
  return { ...t, stack, hits: stack.flatMap((f, i) => (match(f) ? [i] : [])) };
}

/** Every task (but `exclude`, normally this process) whose stack holds a matching frame now. */
export async function tasksInFunctions(h: LiveHost, match: (f: StackFrame) => boolean, exclude: number): Promise<BlockingTask[]> {
  const out: BlockingTask[] = [];
  for (const t of await readTasks(h)) {
    if (t.pid === exclude) continue;
    const b = await withStack(h, t, match);
    if (b.hits.length) out.push(b);
  }
  return out;
}

export const summarize = (b: BlockingTask): BlockerSummary => ({
  pid: b.pid,
  comm: b.comm,
  functions: [...new Set(b.hits.map((i) => b.stack[i]!.func))],
});

export const hitFrames = (b: BlockingTask): string[] => b.hits.map((i) => formatFrame(b.stack[i]!));
