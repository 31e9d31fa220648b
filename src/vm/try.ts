import path from 'node:path';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { shellQuote } from '../util/shell.js';
import type { Trouble } from './console-scan.js';
import { Vm } from './session.js';

// `rebootless try`: prove a livepatch module on the real kernel of its
// release with the very commands that will touch the real host: check,
// `rebootless apply --json` (run-pre's check of the running code, load,
// transition), check, `rebootless revert --json` (transition back, unload),
// check — one VM, every step reported.

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
  name: 'boot' | 'setup' | 'check-before' | 'apply' | 'check-patched' | 'revert' | 'check-after';
  ok: boolean;
  ms: number;
  output: string;
}

/** Per replaced function, what the guest's apply found of its running code. */
export interface TriedFunction {
  object: string;
  function: string;
  /** matches: the running code is the release's; not-loaded: its module was not loaded in the guest. */
  liveCode: 'matches' | 'not-loaded' | 'unchecked';
}

export interface TryReport {
  release: string;
  steps: TryStep[];
  functions: TriedFunction[];
  trouble: Trouble[];
  ok: boolean;
  /** Set when a first guest failed before the patch was applied (the emulator's fault, not the patch's) and a second one was started: what the first one's console showed. */
  retried?: string;
}

interface ApplyJson {
  outcome?: string;
  liveCode?: { available: boolean; functions: { object: string; function: string; result: 'matches' | 'not-loaded' }[] } | null;
  module?: { objects?: { name: string; functions: { name: string }[] }[] };
}

function triedFunctions(output: string): TriedFunction[] {
  let r: ApplyJson;
  try {
    r = JSON.parse(output) as ApplyJson;
  } catch {
    return [];
  }
  if (r.liveCode?.available) return r.liveCode.functions.map((f) => ({ object: f.object, function: f.function, liveCode: f.result }));
  return (r.module?.objects ?? []).flatMap((o) => o.functions.map((f) => ({ object: o.name, function: f.name, liveCode: 'unchecked' as const })));
}

/**
 * `try`: a guest of the release, the check before, apply, the check while
 * patched, revert, the check after. Kernel trouble the console shows before
 * the apply started cannot be the patch's: the guest is started once more
 * (the report says so, with what the first one showed).
 */
export async function tryLivepatch(o: TryOptions): Promise<TryReport> {
  const first = await tryOnce(o);
  if (!first.troubleBeforeApply) return first.report;
  const second = await tryOnce(o);
  return { ...second.report, retried: first.troubleBeforeApply };
}

async function tryOnce(o: TryOptions): Promise<{ report: TryReport; troubleBeforeApply?: string }> {
  const steps: TryStep[] = [];
  let functions: TriedFunction[] = [];
  const t0 = Date.now();
  const vm = await Vm.start({ workspace: o.workspace, cacheRoot: o.cacheRoot, withCli: true, ...(o.modules?.length ? { modules: o.modules } : {}) });
  const limit = o.transitionTimeoutS ?? 60;
  const record = (s: TryStep): TryStep => {
    steps.push(s);
    o.onStep?.(s);
    return s;
  };
  record({ name: 'boot', ok: true, ms: Date.now() - t0, output: '' });
  // apply's own bounds, at worst: waiting for another transition and loading (limit), the transition (limit),
  // its reversal (limit), the unload (30 s); the CLI starts slowly under emulation. A stalled transition
  // must end as apply's report of its blockers, not as a killed VM.
  const run = async (name: TryStep['name'], cmd: string): Promise<TryStep> => {
    const r = await vm.run(cmd, { timeoutMs: (3 * limit + 30 + 120) * 1000 });
    return record({ name, ok: r.exitCode === 0, ms: r.ms, output: r.output });
  };
  const guestKo = `/root/${path.basename(o.module)}`;
  // the console's line count when the apply started: trouble above it came before the patch
  let applyLine = Number.POSITIVE_INFINITY;
  const sequence = async (): Promise<void> => {
    await vm.copyIn(o.module, guestKo, 0o644);
    if (o.setup && !(await run('setup', o.setup)).ok) return;
    await run('check-before', o.check);
    // JSON on stdout is the step's output; the live view on stderr is kept only when the command fails
    const live = (args: string): string => `rebootless ${args} --json --timeout ${limit}s 2>/tmp/rbl.err || { s=$?; cat /tmp/rbl.err; exit $s; }`;
    applyLine = vm.consoleText().split('\n').length - 1;
    const applied = await run('apply', live(`apply ${shellQuote(guestKo)}`));
    functions = triedFunctions(applied.output);
    if (!applied.ok) return;
    await run('check-patched', o.check);
    if (!(await run('revert', live(`revert ${shellQuote(o.patchName)}`))).ok) return;
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
  const report: TryReport = { release: o.workspace.release, steps, functions, trouble, ...(vm.bootRetried ? { retried: vm.bootRetried } : {}), ok: trouble.length === 0 && steps.every((x) => x.ok) && steps.some((x) => x.name === 'check-after') };
  const early = trouble.length > 0 && trouble.every((t) => t.line < applyLine);
  return { report, ...(early ? { troubleBeforeApply: vm.excerpt(trouble) } : {}) };
}
