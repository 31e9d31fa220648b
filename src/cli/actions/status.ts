import { RebootlessError } from '../../errors/index.js';
import { moduleName } from '../../util/module-name.js';
import { hostStatus, type HostStatus, type PatchStatus } from '../../runtime/status.js';
import type { CliContext, SetExit } from '../context.js';
import { hostFromEnv } from '../live-host.js';
import { paint, printJson, table } from '../render.js';

const functionsOf = (p: PatchStatus): string[] =>
  p.objects.flatMap((o) => o.functions.map((f) => `${o.name === 'vmlinux' ? '' : `${o.name}:`}${f.name}${f.sympos > 1 ? `,${f.sympos}` : ''}`));

const stateText = (p: PatchStatus): string =>
  p.transition.running ? `${p.state}${p.transition.seconds !== null ? ` ${p.transition.seconds}s` : ''}` : p.state;

export function renderList(s: HostStatus): string {
  if (!s.livepatch) return `${s.release}: this kernel has no livepatch support\n`;
  if (s.patches.length === 0) return `${s.release}: no live patches loaded\n`;
  const rows = [['NAME', 'STATE', 'FUNCTIONS', 'CVE', 'DESCRIPTION']];
  for (const p of s.patches) rows.push([p.name, stateText(p), String(functionsOf(p).length), p.cves.join(',') || '-', p.description ?? '-']);
  return table(rows);
}

export function renderStatus(s: HostStatus, patches: PatchStatus[], color: boolean): string {
  const lines = [`kernel ${s.release}: livepatch ${s.livepatch ? 'supported' : 'not supported'}; taint ${s.taint.mask}${s.taint.flags.length ? ` (${s.taint.flags.map((f) => f.letter).join('')}: ${s.taint.flags.map((f) => f.meaning).join('; ')})` : ''}`];
  if (patches.length === 0) lines.push('no live patches loaded');
  for (const p of patches) {
    lines.push('');
    lines.push(`${paint(color, '1', p.name)}: ${stateText(p)}${p.forced ? ' (forced)' : ''}${p.installed ? ', installed for boot' : ''}`);
    if (p.transition.running) {
      lines.push(
        p.transition.pending === null
          ? '  transition: running (run as root to see which tasks hold it up)'
          : `  transition: ${p.transition.pending} task(s) not switched yet, ${p.transition.blockers.length} held up by a switched function on the stack`,
      );
      for (const b of p.transition.blockers) lines.push(`    ${b.pid}${b.tid !== b.pid ? `/${b.tid}` : ''} ${b.comm} (state ${b.state}): ${b.frames.join(' ← ')}`);
    }
    if (p.description) lines.push(`  description: ${p.description}`);
    if (p.cves.length) lines.push(`  CVE: ${p.cves.join(', ')}`);
    if (p.loadedAt) lines.push(`  loaded: ${p.loadedAt}${p.appliedAt ? `, every task switched at ${p.appliedAt}` : ''}`);
    if (p.liveCode) lines.push(`  running code: ${p.liveCode === 'checked' ? "compared with the release's before loading" : p.liveCode === 'skipped' ? 'NOT compared with the release (--skip-run-pre)' : 'not compared (the module carries no release code)'}`);
    if (p.replace !== null) lines.push(`  replace: ${p.replace ? 'yes (replaces earlier patches)' : 'no (stacks on earlier patches)'}`);
    for (const o of p.objects) {
      lines.push(`  ${o.name}${o.patched ? '' : ' (not loaded: patched when it loads)'}: ${o.functions.map((f) => f.name + (f.sympos > 1 ? `,${f.sympos}` : '')).join(', ')}`);
    }
    if (p.state === 'module-only') lines.push(`  the patch is gone (disabled or replaced) but its module is loaded; remove it with: rebootless revert ${p.name}`);
    lines.push(`  module taint: ${p.moduleTaint || '-'}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `rebootless list`. */
export async function list(ctx: CliContext, setExit: SetExit, f: { json?: boolean }): Promise<void> {
  const s = await hostStatus(hostFromEnv());
  if (f.json) printJson(ctx.io.stdout, s);
  else ctx.io.stdout.write(renderList(s));
  setExit(0);
}

/** `rebootless status [NAME]`. */
export async function status(ctx: CliContext, setExit: SetExit, name: string | undefined, f: { json?: boolean; vex?: boolean }): Promise<void> {
  if (f.vex) return vex(ctx, setExit, name, f);
  const s = await hostStatus(hostFromEnv());
  const wanted = name === undefined ? s.patches : s.patches.filter((p) => p.name === moduleName(name));
  if (name !== undefined && wanted.length === 0) throw new RebootlessError('PATCH_NOT_LOADED', { name, loaded: s.patches.map((p) => p.name) });
  if (f.json) printJson(ctx.io.stdout, { ...s, patches: wanted });
  else ctx.io.stdout.write(renderStatus(s, wanted, ctx.color));
  setExit(0);
}

/** `rebootless status --vex`: the OpenVEX document on stdout, what was left out on stderr. */
async function vex(ctx: CliContext, setExit: SetExit, name: string | undefined, f: { json?: boolean }): Promise<void> {
  if (name !== undefined || f.json) throw new RebootlessError('USAGE', { detail: '--vex states every live patch of the host: give it without a patch name or --json (its output is JSON)' });
  const { hostVex } = await import('../../fleet/vex.js');
  const { packageVersion } = await import('../version.js');
  const { document, skipped } = await hostVex(hostFromEnv(), { now: new Date(), tooling: `rebootless ${packageVersion()}` });
  printJson(ctx.io.stdout, document);
  for (const x of skipped) ctx.io.stderr.write(`not stated: ${x.name}: ${x.reason}\n`);
  setExit(0);
}
