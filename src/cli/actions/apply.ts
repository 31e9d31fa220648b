import { RebootlessError } from '../../errors/index.js';
import { applyPatch, type ApplyReport } from '../../runtime/apply.js';
import { revertAll, revertPatch, type RevertReport } from '../../runtime/revert.js';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { hostFromEnv } from '../live-host.js';
import { parseDuration } from './option-values.js';
import { printJson } from '../render.js';
import { transitionView } from '../transition-view.js';

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

export interface ApplyFlags {
  timeout: string;
  wait: boolean;
  force?: boolean;
  iUnderstandForceIsPermanent?: boolean;
  skipRunPre?: boolean;
  json?: boolean;
}

/** `rebootless apply MODULE.ko`. */
export async function apply(ctx: CliContext, setExit: SetExit, ko: string, f: ApplyFlags): Promise<void> {
  const timeoutMs = parseDuration(f.timeout);
  if (f.force && !f.iUnderstandForceIsPermanent) throw new RebootlessError('FORCE_NOT_CONFIRMED', {});
  if (f.skipRunPre) ctx.io.stderr.write('warning: --skip-run-pre: the running code is not compared with the release the patch was built for\n');
  if (f.force) ctx.io.stderr.write('warning: --force: if the bound expires, the remaining tasks are switched without a stack check, and the modules of the patches this one replaces can never be removed\n');
  const r = await applyPatch(hostFromEnv(), ko, {
    timeoutMs,
    wait: f.wait,
    force: f.force === true,
    ...(f.skipRunPre ? { skipRunPre: true } : {}),
    signal: ctx.signal,
    onEvent: transitionView(ctx.io.stderr, ctx.color),
  });
  if (f.json) printJson(ctx.io.stdout, r);
  else ctx.io.stdout.write(renderApply(r));
  setExit(0);
}

export interface RevertFlags {
  all?: boolean;
  timeout: string;
  json?: boolean;
}

/** `rebootless revert [NAME | --all]`. */
export async function revert(ctx: CliContext, setExit: SetExit, name: string | undefined, f: RevertFlags): Promise<void> {
  if (!name === !f.all) throw new RebootlessError('USAGE', { detail: 'name one patch or give --all' });
  const opts = { timeoutMs: parseDuration(f.timeout), signal: ctx.signal, onEvent: transitionView(ctx.io.stderr, ctx.color) };
  const reports = f.all ? await revertAll(hostFromEnv(), opts) : [await revertPatch(hostFromEnv(), name!, opts)];
  if (f.json) printJson(ctx.io.stdout, f.all ? { reverted: reports } : reports[0]);
  else ctx.io.stdout.write(reports.length ? reports.map(renderRevert).join('') : 'no live patches are loaded\n');
  setExit(0);
}
