import { proveModule, tryFailure } from '../../demo/prove.js';
import type { KernelWorkspace } from '../../kernel/manifest.js';
import type { VerifyReport } from '../../pipeline/verify.js';
import { formatDuration } from '../../util/progress.js';
import type { TryReport, TryStep } from '../../vm/try.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';
import { workspaceFor } from './kernel/workspace.js';

/** The guest's apply/revert report in one line (its JSON stays in --json). */
function liveSummary(output: string): string | undefined {
  try {
    const r = JSON.parse(output) as { outcome?: string; transitionMs?: number | null; liveCode?: { available: boolean; functions: { function: string; result: string }[] } | null };
    if (!r.outcome) return undefined;
    const parts = [`${r.outcome}${typeof r.transitionMs === 'number' ? ` (transition ${formatDuration(r.transitionMs)})` : ''}`];
    if (r.liveCode === null) parts.push('running code not checked (--skip-run-pre)');
    else if (r.liveCode) parts.push(r.liveCode.available ? `running code: ${r.liveCode.functions.map((f) => `${f.function} ${f.result}`).join(', ')}` : 'running code not checked (no release code in the module)');
    return parts.join('; ');
  } catch {
    return undefined;
  }
}

export function renderStep(s: TryStep): string {
  const out = ((s.name === 'apply' || s.name === 'revert') && s.ok ? liveSummary(s.output) : undefined) ?? s.output.trimEnd();
  return `${s.ok ? '✓' : '✗'} ${s.name} (${formatDuration(s.ms)})${out ? `\n${out.split('\n').map((l) => `    ${l}`).join('\n')}` : ''}\n`;
}

export async function runTry(ctx: CliContext, ws: KernelWorkspace, ko: string, check: string, modules: string[], json: boolean, setup?: string): Promise<TryReport> {
  const r = await proveModule({
    workspace: ws,
    module: ko,
    check,
    modules,
    ...(setup ? { setup } : {}),
    ...(json ? {} : { onVerified: (v: VerifyReport) => ctx.io.stdout.write(`✓ verify (${formatDuration(v.ms)})\n`), onStep: (st: TryStep) => ctx.io.stdout.write(renderStep(st)) }),
  });
  return r.try;
}

export interface TryFlags {
  kernel?: string;
  check: string;
  setup?: string;
  module: string[];
  json?: boolean;
}

/** `rebootless try MODULE.ko`. */
export async function tryModule(ctx: CliContext, setExit: SetExit, ko: string, f: TryFlags): Promise<void> {
  const ws = await workspaceFor(f.kernel);
  const r = await runTry(ctx, ws, ko, f.check, f.module, f.json === true, f.setup);
  const err = tryFailure(r);
  if (f.json) {
    printJson(ctx.io.stdout, { ...r, ...(err ? { error: err.toJSON() } : {}) });
    setExit(err ? err.exitCode : 0);
    return;
  }
  if (r.retried) ctx.io.stderr.write(`rebootless: the first guest showed kernel trouble before the patch was applied (the emulator's, not the patch's); a second guest was used. It showed:\n${r.retried}\n`);
  if (err) throw err;
  const checked = r.functions.filter((x) => x.liveCode === 'matches').length;
  ctx.io.stdout.write(`${ko}: applied (${checked} of ${r.functions.length} replaced function${r.functions.length === 1 ? '' : 's'} running the release's code), took effect, reverted and unloaded cleanly on ${r.release}\n`);
  setExit(0);
}
