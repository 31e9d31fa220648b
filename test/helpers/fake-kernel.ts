import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { ExecResult, LiveHost } from '../../src/runtime/host.js';
import { moduleName } from '../../src/util/module-name.js';
import type { KlpTableObject } from '../../src/elf/klp-tables.js';
import { newCodeSymbol } from '../../src/elf/livepatch.js';
import { readModuleFile } from '../../src/runtime/module-file.js';
import { parseStack, type StackFrame } from '../../src/runtime/stack.js';
import { RELEASE } from './livepatch-fixtures.js';

// A simulated livepatch kernel on a temp directory tree, and a LiveHost on it
// with a virtual clock: sleep(ms) advances the clock and runs one tick of the
// simulator, in which every task not yet switched tries to switch.
//
// The kernel's rule, kept: a task that is not running (sleeping, idle) and has
// a function the transition switches on its stack stays where it is. When
// patching that is the replaced code (the original function, or the new code
// of the patch below on the stack); when unpatching, the patch module's code.
// A running task switches at its next return to user space (the next tick).
//
// sysfs writes (enabled, force) are plain file writes: the simulated kernel
// notices them at the next host call (now, sleep, exec), which the runtime
// always makes before it reads the patch back.

export const START_MS = Date.parse('2026-03-01T12:00:00.000Z');
const PF_KTHREAD = 0x00200000;
const TAINT = { O: 1 << 12, E: 1 << 13, K: 1 << 15 };

export interface FakeKernelOptions {
  release?: string;
  root?: boolean;
  /** /sys/kernel/livepatch exists (default true). */
  livepatch?: boolean;
  /** Ordinary modules loaded at start (e.g. 'ext4'). */
  modules?: string[];
  /** Writes /sys/module/module/parameters/sig_enforce when given. */
  sigEnforce?: boolean;
  /** Writes /sys/kernel/security/lockdown when given. */
  lockdown?: 'none' | 'integrity' | 'confidentiality';
}

export interface FakeTaskSpec {
  comm: string;
  /** Scheduler state letter (default 'S'). */
  state?: string;
  kthread?: boolean;
  /** Frames as /proc shows them without the address: 'pipe_read+0x3df/0x470', 'foo+0x10/0x30 [ext4]'. */
  stack?: string[];
  /** Make this a thread of that process. */
  threadOf?: number;
}

interface FakeTask {
  pid: number;
  tid: number;
  comm: string;
  state: string;
  kthread: boolean;
  stack: string[];
  /** -1 no transition, 0 unpatched, 1 patched. */
  patchState: number;
}

interface FakePatch {
  name: string;
  objects: KlpTableObject[];
  replace: boolean;
  /** The target while in transition. */
  enabled: boolean;
  transition: boolean;
}

interface FakeModule {
  /** /sys/module/NAME/taint letters. */
  taint: string;
  forced: boolean;
}

const roots: string[] = [];
try {
  afterAll(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });
} catch {
  // not under vitest
}

export class FakeKernel {
  readonly root: string;
  readonly host: LiveHost;
  release: string;
  isRoot: boolean;
  /** Virtual ms since the epoch. */
  clock = START_MS;
  /** Every exec as 'file arg...'. */
  readonly calls: string[] = [];
  private readonly tasks: FakeTask[] = [];
  /** Registered patches in stacking order. */
  private readonly patches = new Map<string, FakePatch>();
  private readonly modules = new Map<string, FakeModule>();
  private taint = 0;
  private busyLoads = 0;
  private nextPid = 1;
  /** What this simulator last wrote to each file, to write only what changed. */
  private readonly written = new Map<string, string>();

  constructor(private readonly o: FakeKernelOptions = {}) {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'rb-fake-kernel-'));
    roots.push(this.root);
    this.release = o.release ?? RELEASE;
    this.isRoot = o.root ?? true;
    if (o.livepatch ?? true) mkdirSync(this.p('sys/kernel/livepatch'), { recursive: true });
    if (o.sigEnforce !== undefined) this.write('sys/module/module/parameters/sig_enforce', o.sigEnforce ? 'Y' : 'N');
    if (o.lockdown) this.write('sys/kernel/security/lockdown', ['none', 'integrity', 'confidentiality'].map((m) => (m === o.lockdown ? `[${m}]` : m)).join(' '));
    for (const m of o.modules ?? []) this.modules.set(m, { taint: '', forced: false });
    this.addTask({ comm: 'systemd', stack: ['ep_poll+0x2a1/0x3c0', 'do_epoll_wait+0x4d0/0x5d0', 'do_syscall_64+0x5b/0xc0'] });
    this.addTask({ comm: 'kworker/0:1', state: 'I', kthread: true, stack: ['worker_thread+0xb8/0x390', 'kthread+0xd7/0x100'] });
    this.host = {
      root: this.root,
      release: () => this.release,
      isRoot: () => this.isRoot,
      exec: async (file, args) => {
        this.sync();
        return this.exec(file, args);
      },
      now: () => {
        this.sync();
        return this.clock;
      },
      sleep: async (ms, signal) => {
        await new Promise((r) => setImmediate(r));
        if (signal?.aborted) return;
        this.clock += ms;
        this.tick();
      },
    };
    this.writeAll();
  }

  /** Adds a task; returns its tid (its pid unless it is a thread of another process). Never this process's pid. */
  addTask(spec: FakeTaskSpec): number {
    if (this.nextPid === process.pid) this.nextPid++;
    const tid = this.nextPid++;
    const t: FakeTask = { pid: spec.threadOf ?? tid, tid, comm: spec.comm, state: spec.state ?? 'S', kthread: spec.kthread ?? false, stack: spec.stack ?? [], patchState: -1 };
    const running = [...this.patches.values()].find((p) => p.transition);
    if (running) t.patchState = running.enabled ? 1 : 0; // a new task starts in the target state
    this.tasks.push(t);
    this.writeAll();
    return tid;
  }

  /** Changes a task (by tid) as the test needs: it went to sleep somewhere, woke up. */
  setTask(tid: number, change: Partial<Pick<FakeTaskSpec, 'state' | 'stack' | 'comm'>>): void {
    Object.assign(this.task(tid), change);
    this.writeAll();
  }

  /** The task returns to user space: running, with nothing on its kernel stack. */
  wake(tid: number): void {
    this.setTask(tid, { state: 'R', stack: [] });
  }

  patchState(tid: number): number {
    return this.task(tid).patchState;
  }

  /** The next `n` loads fail with EBUSY (a transition the runtime could not see in sysfs). */
  busyInsmods(n: number): void {
    this.busyLoads = n;
  }

  /** One round of the transition work: every pending task that can switch does. */
  tick(): void {
    this.sync();
    const p = [...this.patches.values()].find((x) => x.transition);
    if (p) {
      const want = p.enabled ? 1 : 0;
      for (const t of this.tasks) if (t.patchState !== want && !this.blocks(t, p)) t.patchState = want;
      if (this.tasks.every((t) => t.patchState === want)) this.complete(p);
    }
    this.writeAll();
  }

  /** Picks up what the runtime wrote to enabled and force. */
  sync(): void {
    for (const p of [...this.patches.values()]) {
      const dir = `sys/kernel/livepatch/${p.name}`;
      const written = this.read(`${dir}/enabled`);
      if (written !== this.written.get(`${dir}/enabled`)?.trim()) this.written.delete(`${dir}/enabled`);
      const want = written === '1';
      if (want !== p.enabled) {
        if (p.transition) p.enabled = want; // reversal: tasks keep their state, the target flips
        else if (!want && !this.inTransition()) this.startTransition(p, false);
        // otherwise the kernel refuses the write (EINVAL, EBUSY): the file is rewritten below
      }
      if (this.read(`${dir}/force`) === '1') {
        this.written.delete(`${dir}/force`);
        if (p.transition) for (const t of this.tasks) t.patchState = p.enabled ? 1 : 0;
        this.modules.get(p.name)!.forced = true;
      }
    }
    this.writeAll();
  }

  private inTransition(): boolean {
    return [...this.patches.values()].some((p) => p.transition);
  }

  private startTransition(p: FakePatch, enable: boolean): void {
    p.enabled = enable;
    p.transition = true;
    for (const t of this.tasks) t.patchState = enable ? 0 : 1;
  }

  private task(tid: number): FakeTask {
    const t = this.tasks.find((x) => x.tid === tid);
    if (!t) throw new Error(`no task ${tid}`);
    return t;
  }

  private blocks(t: FakeTask, p: FakePatch): boolean {
    if (t.state === 'R') return false;
    return parseStack(t.stack.map((f) => `[<0>] ${f}`).join('\n')).some((f) => this.switched(f, p));
  }

  /** Whether this frame is in code the transition of `p` switches away from. */
  private switched(f: StackFrame, p: FakePatch): boolean {
    if (!p.enabled) return f.module === p.name;
    const below = [...this.patches.values()].filter((q) => q !== p && !q.transition);
    return p.objects.some((o) =>
      o.functions.some((fn) => {
        const prev = below.filter((q) => q.objects.some((qo) => qo.name === o.name && qo.functions.some((x) => x.name === fn.name))).at(-1);
        if (prev) return f.module === prev.name && f.func === newCodeSymbol(fn.name);
        return (f.module ?? 'vmlinux') === o.name && f.func === fn.name;
      }),
    );
  }

  private complete(p: FakePatch): void {
    for (const t of this.tasks) t.patchState = -1;
    p.transition = false;
    // Unpatched: the patch is freed and leaves sysfs; a finished replace patch frees every other one.
    const freed = p.enabled ? (p.replace ? [...this.patches.values()].filter((q) => q !== p) : []) : [p];
    for (const q of freed) {
      this.patches.delete(q.name);
      this.remove(`sys/kernel/livepatch/${q.name}`);
    }
  }

  private async exec(file: string, args: readonly string[]): Promise<ExecResult> {
    this.calls.push([file, ...args].join(' '));
    if (file === 'insmod') return this.insmod(args[0] ?? '');
    if (file === 'rmmod') return this.rmmod(args[0] ?? '');
    return { exitCode: 127, output: `${file}: not found` };
  }

  private async insmod(file: string): Promise<ExecResult> {
    const fail = (reason: string): ExecResult => ({ exitCode: 1, output: `insmod: ERROR: could not insert module ${file}: ${reason}` });
    const m = await readModuleFile(file).catch(() => undefined);
    if (!m) return fail('Invalid module format');
    if (this.modules.has(m.name)) return fail('File exists');
    if (m.release !== this.release) return fail('Invalid module format');
    if (!m.signed && this.o.sigEnforce) return fail('Key was rejected by service');
    if (!m.signed && this.o.lockdown && this.o.lockdown !== 'none') return fail('Operation not permitted');
    if (!(this.o.livepatch ?? true)) return fail('Unknown symbol in module');
    if (this.busyLoads > 0 || this.inTransition()) {
      this.busyLoads = Math.max(0, this.busyLoads - 1);
      return fail('Device or resource busy');
    }
    this.modules.set(m.name, { taint: m.signed ? 'OK' : 'OEK', forced: false });
    this.taint |= TAINT.O | TAINT.K | (m.signed ? 0 : TAINT.E);
    const p: FakePatch = { name: m.name, objects: m.objects, replace: m.replace ?? false, enabled: true, transition: true };
    this.patches.set(m.name, p);
    this.startTransition(p, true);
    this.writeAll();
    return { exitCode: 0, output: '' };
  }

  private rmmod(raw: string): ExecResult {
    const name = moduleName(raw);
    const mod = this.modules.get(name);
    if (!mod) return { exitCode: 1, output: `rmmod: ERROR: Module ${name} is not currently loaded` };
    if (this.patches.has(name) || mod.forced) return { exitCode: 1, output: `rmmod: ERROR: Module ${name} is in use` };
    this.modules.delete(name);
    this.remove(`sys/module/${name}`);
    return { exitCode: 0, output: '' };
  }

  private p(rel: string): string {
    return path.join(this.root, rel);
  }

  private read(rel: string): string | undefined {
    try {
      return readFileSync(this.p(rel), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** Writes a file of the tree unless it already holds `text` (as this simulator last wrote it). */
  private write(rel: string, text: string): void {
    if (this.written.get(rel) === text) return;
    mkdirSync(path.dirname(this.p(rel)), { recursive: true });
    writeFileSync(this.p(rel), text);
    this.written.set(rel, text);
  }

  private mkdir(rel: string): void {
    if (this.written.has(rel)) return;
    mkdirSync(this.p(rel), { recursive: true });
    this.written.set(rel, '<dir>');
  }

  private remove(rel: string): void {
    rmSync(this.p(rel), { recursive: true, force: true });
    for (const k of this.written.keys()) if (k === rel || k.startsWith(`${rel}/`)) this.written.delete(k);
  }

  private writeAll(): void {
    const livepatch = this.o.livepatch ?? true;
    for (const t of this.tasks) {
      const flags = t.kthread ? PF_KTHREAD | 0x8040 : 0x400100;
      const stat = `${t.tid} (${t.comm}) ${t.state} 1 ${t.pid} ${t.pid} 0 -1 ${flags} 120 0 0 0 3 5 0 0 20 0 1 0 1234 0 0\n`;
      if (t.pid === t.tid) this.write(`proc/${t.pid}/stat`, stat);
      const dir = `proc/${t.pid}/task/${t.tid}`;
      this.write(`${dir}/stat`, stat);
      this.write(`${dir}/stack`, t.stack.map((f) => `[<0>] ${f}\n`).join(''));
      if (livepatch) this.write(`${dir}/patch_state`, `${t.patchState}\n`);
    }
    for (const p of this.patches.values()) {
      const dir = `sys/kernel/livepatch/${p.name}`;
      this.write(`${dir}/enabled`, p.enabled ? '1\n' : '0\n');
      this.write(`${dir}/transition`, p.transition ? '1\n' : '0\n');
      this.write(`${dir}/force`, '');
      for (const o of p.objects) {
        this.write(`${dir}/${o.name}/patched`, o.name === 'vmlinux' || this.modules.has(o.name) ? '1\n' : '0\n');
        for (const f of o.functions) this.mkdir(`${dir}/${o.name}/${f.name},${f.sympos || 1}`);
      }
    }
    for (const [name, m] of this.modules) {
      this.write(`sys/module/${name}/initstate`, 'live\n');
      this.write(`sys/module/${name}/taint`, `${m.taint}\n`);
    }
    this.write('proc/sys/kernel/tainted', `${this.taint}\n`);
  }
}
