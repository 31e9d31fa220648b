import { proveModule, tryFailure } from '../../demo/prove.js';
import type { KernelWorkspace } from '../../kernel/manifest.js';
import type { VerifyReport } from '../../pipeline/verify.js';
import { formatDuration } from '../../util/progress.js';
import type { TryReport, TryStep } from '../../vm/try.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';
import { workspaceFor } from './kernel/workspace.js';

export function renderStep(s: TryStep): string {
  const out = s.output.trimEnd();
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
  if (err) throw err;
  ctx.io.stdout.write(`${ko}: loaded, took effect, reverted and unloaded cleanly on ${r.release}\n`);
  setExit(0);
}
