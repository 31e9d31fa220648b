import type { Command } from 'commander';
import { RebootlessError } from '../../errors/index.js';
import { applyPatch, type ApplyReport } from '../../runtime/apply.js';
import { revertAll, revertPatch, type RevertReport } from '../../runtime/revert.js';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { hostFromEnv } from '../live-host.js';
import { parseDuration } from '../options.js';
import { printJson } from '../render.js';
import { transitionView } from '../transition-view.js';

const DEFAULT_TIMEOUT = '60s';

export function renderApply(r: ApplyReport): string {
  const fns = r.module.objects.flatMap((o) => o.functions.map((f) => (o.name === 'vmlinux' ? f.name : `${o.name}:${f.name}`)));
  switch (r.outcome) {
    case 'applied':
      return `${r.name}: applied on ${r.release}; every task switched in ${formatDuration(r.transitionMs ?? 0)} (${fns.join(', ')})\n`;
    case 'forced':
      return `${r.name}: applied by force on ${r.release}: the remaining tasks were switched without a stack check (${fns.join(', ')})\n`;
    case 'in-transition':
      return `${r.name}: loaded on ${r.release}; the transition continues in the kernel ('rebootless status ${r.name}' follows it)\n`;
  }
}

export const renderRevert = (r: RevertReport): string =>
  r.outcome === 'reverted'
    ? `${r.name}: reverted; every task back on the original code in ${formatDuration(r.transitionMs ?? 0)}, module unloaded\n`
    : `${r.name}: its patch was already gone; left-over module unloaded\n`;

export function registerApply(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('apply')
    .description('load a livepatch module into the running kernel and follow the transition within a time bound (root)')
    .argument('<module.ko>', 'the livepatch module (from rebootless build)')
    .option('--timeout <duration>', 'bound for the transition; past it the apply is reversed and the module unloaded', DEFAULT_TIMEOUT)
    .option('--no-wait', 'return once the module is loaded; the kernel finishes the transition on its own')
    .option('--force', 'past the bound, force the remaining tasks instead of reversing (needs the next flag)')
    .option('--i-understand-force-is-permanent', 'confirm --force: tasks switched unchecked; modules of replaced patches can never be removed')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Exit codes: 0 applied, 75 the transition timed out and was reversed (kernel unchanged), 1 error.`)
    .action(async (ko: string, f: { timeout: string; wait: boolean; force?: boolean; iUnderstandForceIsPermanent?: boolean; json?: boolean }) => {
      const timeoutMs = parseDuration(f.timeout);
      if (f.force && !f.iUnderstandForceIsPermanent) throw new RebootlessError('FORCE_NOT_CONFIRMED', {});
      if (f.force) ctx.io.stderr.write('warning: --force: if the bound expires, the remaining tasks are switched without a stack check, and the modules of the patches this one replaces can never be removed\n');
      const r = await applyPatch(hostFromEnv(), ko, {
        timeoutMs,
        wait: f.wait,
        force: f.force === true,
        signal: ctx.signal,
        onEvent: transitionView(ctx.io.stderr, ctx.color),
      });
      if (f.json) printJson(ctx.io.stdout, r);
      else ctx.io.stdout.write(renderApply(r));
      setExit(0);
    });

  program
    .command('revert')
    .description('disable a live patch, follow the transition back within a time bound, unload its module (root)')
    .argument('[name]', 'the patch (module) name, as rebootless list shows it')
    .option('--all', 'revert every loaded patch, newest first')
    .option('--timeout <duration>', 'bound for each transition; past it the patch is re-enabled (kernel unchanged)', DEFAULT_TIMEOUT)
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Exit codes: 0 reverted, 75 the transition timed out and the patch was re-enabled (kernel unchanged), 1 error.`)
    .action(async (name: string | undefined, f: { all?: boolean; timeout: string; json?: boolean }) => {
      if (!name === !f.all) throw new RebootlessError('USAGE', { detail: 'name one patch or give --all' });
      const opts = { timeoutMs: parseDuration(f.timeout), signal: ctx.signal, onEvent: transitionView(ctx.io.stderr, ctx.color) };
      const reports = f.all ? await revertAll(hostFromEnv(), opts) : [await revertPatch(hostFromEnv(), name!, opts)];
      if (f.json) printJson(ctx.io.stdout, f.all ? { reverted: reports } : reports[0]);
      else ctx.io.stdout.write(reports.length ? reports.map(renderRevert).join('') : 'no live patches are loaded\n');
      setExit(0);
    });
}
