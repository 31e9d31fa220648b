import { readdir } from 'node:fs/promises';
import { hostPath, readTextIfAny, type LiveHost } from './host.js';
import { parseStack, type StackFrame } from './stack.js';

// Tasks (threads) of the live kernel as /proc shows them.

export interface LiveTask {
  pid: number;
  tid: number;
  comm: string;
  /** One-letter scheduler state from stat: R running, S sleeping, D uninterruptible, ... */
  state: string;
  /** -1 no transition, 0 unpatched, 1 patched; undefined when the kernel has no livepatch. */
  patchState: number | undefined;
  kthread: boolean;
}

const PF_KTHREAD = 0x00200000;

const numericEntries = async (dir: string): Promise<number[]> => {
  try {
    return (await readdir(dir)).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  } catch {
    return [];
  }
};

/** Parses /proc/PID/stat: the comm is in parentheses and may contain spaces and ')'. */
export function parseStat(text: string): { comm: string; state: string; flags: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // after comm: state(3) ppid pgrp session tty_nr tpgid flags(9)
  return { comm: text.slice(open + 1, close), state: rest[0] ?? '?', flags: Number(rest[6] ?? 0) };
}

const taskDir = (h: LiveHost, pid: number, tid: number): string => hostPath(h, 'proc', String(pid), 'task', String(tid));

async function readTask(h: LiveHost, pid: number, tid: number): Promise<LiveTask | undefined> {
  const dir = taskDir(h, pid, tid);
  const stat = parseStat((await readTextIfAny(`${dir}/stat`)) ?? '');
  if (!stat) return undefined;
  const ps = await readTextIfAny(`${dir}/patch_state`);
  return {
    pid,
    tid,
    comm: stat.comm,
    state: stat.state,
    patchState: ps === undefined ? undefined : Number(ps.trim()),
    kthread: (stat.flags & PF_KTHREAD) !== 0,
  };
}

/** Every thread of every process. Tasks that exit while being read are skipped. */
export async function readTasks(h: LiveHost): Promise<LiveTask[]> {
  const out: LiveTask[] = [];
  for (const pid of await numericEntries(hostPath(h, 'proc'))) {
    for (const tid of await numericEntries(hostPath(h, 'proc', String(pid), 'task'))) {
      const t = await readTask(h, pid, tid);
      if (t) out.push(t);
    }
  }
  return out;
}

/** The task's kernel stack (needs root); empty when it exited or is running on a CPU. */
export async function readTaskStack(h: LiveHost, t: { pid: number; tid: number }): Promise<StackFrame[]> {
  return parseStack((await readTextIfAny(`${taskDir(h, t.pid, t.tid)}/stack`)) ?? '');
}
