import path from 'node:path';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { shellQuote } from '../util/shell.js';
import type { Trouble } from './console-scan.js';
import { Vm } from './session.js';

// `rebootless try`: prove a livepatch module on the real kernel of its
// release: check, load, wait for the transition, check, disable, wait,
// unload, check — one VM, every step reported.

export interface TryOptions {
  workspace: KernelWorkspace;
  cacheRoot: string;
  module: string;
  /** The livepatch's name in sysfs (the module name). */
  patchName: string;
  check: string;
  modules?: string[];
  /** Commands run before the first check (e.g. `modprobe binfmt_misc`). */
  setup?: string;
  transitionTimeoutS?: number;
  onStep?: (s: TryStep) => void;
}

export interface TryStep {
  name: 'boot' | 'setup' | 'check-before' | 'load' | 'check-patched' | 'disable' | 'unload' | 'check-after';
  ok: boolean;
  ms: number;
  output: string;
}

export interface TryReport {
  release: string;
  steps: TryStep[];
  trouble: Trouble[];
  ok: boolean;
}

/** Shell that waits for a sysfs condition, then prints the final value. */
function waitFor(condition: string, seconds: number): string {
  return `i=0; while ! ( ${condition} ); do i=$((i+1)); [ $i -ge ${seconds * 10} ] && exit 1; sleep 0.1; done`;
}

export async function tryLivepatch(o: TryOptions): Promise<TryReport> {
  const steps: TryStep[] = [];
  const t0 = Date.now();
  const vm = await Vm.start({ workspace: o.workspace, cacheRoot: o.cacheRoot, ...(o.modules?.length ? { modules: o.modules } : {}) });
  const sys = `/sys/kernel/livepatch/${o.patchName}`;
  const limit = o.transitionTimeoutS ?? 60;
  const record = (s: TryStep): TryStep => {
    steps.push(s);
    o.onStep?.(s);
    return s;
  };
  record({ name: 'boot', ok: true, ms: Date.now() - t0, output: '' });
  const run = async (name: TryStep['name'], cmd: string): Promise<boolean> => {
    const r = await vm.run(cmd, { timeoutMs: (limit + 60) * 1000 });
    return record({ name, ok: r.exitCode === 0, ms: r.ms, output: r.output }).ok;
  };
  const guestKo = `/root/${path.basename(o.module)}`;
  const sequence = async (): Promise<void> => {
    await vm.copyIn(o.module, guestKo, 0o644);
    if (o.setup && !(await run('setup', o.setup))) return;
    await run('check-before', o.check);
    const loaded = `insmod ${shellQuote(guestKo)} && ${waitFor(`[ "$(cat ${sys}/transition 2>/dev/null)" = 0 ]`, limit)}`;
    if (!(await run('load', `${loaded} && echo "enabled=$(cat ${sys}/enabled) transition=$(cat ${sys}/transition)"`))) return;
    await run('check-patched', o.check);
    if (!(await run('disable', `echo 0 > ${sys}/enabled && ${waitFor(`[ ! -e ${sys} ]`, limit)} && echo disabled`))) return;
    if (!(await run('unload', `${waitFor(`rmmod ${o.patchName} 2>/dev/null`, limit)} && echo unloaded`))) return;
    await run('check-after', o.check);
  };
  try {
    await sequence();
    // let late console lines arrive before judging
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await vm.stop();
  }
  const trouble = vm.trouble();
  return { release: o.workspace.release, steps, trouble, ok: trouble.length === 0 && steps.every((x) => x.ok) && steps.some((x) => x.name === 'check-after') };
}

