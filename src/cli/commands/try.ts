import type { Command } from 'commander';
import { proveModule, tryFailure } from '../../demo/prove.js';
import type { KernelWorkspace } from '../../kernel/manifest.js';
import type { VerifyReport } from '../../pipeline/verify.js';
import { formatDuration } from '../../util/progress.js';
import type { TryReport, TryStep } from '../../vm/try.js';
import type { CliContext, SetExit } from '../context.js';
import { collect } from '../options.js';
import { printJson } from '../render.js';
import { workspaceFor } from './vm.js';


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

export function registerTry(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('try')
    .description('prove a livepatch module in a throwaway VM of its release: check, load, check, disable, unload, check')
    .argument('<module.ko>', 'the livepatch module')
    .option('--kernel <release>', 'kernel release (default: the only fetched one)')
    .option('--check <shell>', 'command whose output shows the patch working', 'true')
    .option('--setup <shell>', 'command run before the first check (e.g. modprobe of the patched module)')
    .option('--module <name>', 'ship a module of the release for modprobe (repeatable)', collect, [])
    .option('--json', 'print the report as JSON')
    .action(async (ko: string, f: { kernel?: string; check: string; setup?: string; module: string[]; json?: boolean }) => {
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
    });
}
