import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT } from '../../errors/index.js';
import { loadInstalled, type BootReport } from '../../runtime/boot.js';
import { installPatch, listInstalled, uninstallPatch } from '../../runtime/install.js';
import type { CliContext, SetExit } from '../context.js';
import { hostFromEnv } from '../live-host.js';
import { parseDuration } from '../options.js';
import { printJson, table } from '../render.js';
import { transitionView } from '../transition-view.js';
import { renderApply } from './apply.js';

/** How the boot unit runs this very rebootless: the same node, loader flags and entry script. */
export function selfCommand(args: string[]): string[] {
  const script = process.argv[1] ? realpathSync(process.argv[1]) : 'rebootless';
  return [process.execPath, ...process.execArgv, script, ...args];
}

const renderBoot = (r: BootReport): string =>
  [
    ...r.applied.map(renderApply),
    ...r.skipped.map((s) => `${s.name}: skipped (${s.why === 'loaded' ? 'already loaded' : 'superseded by a later replace patch'})\n`),
    ...r.failed.map((f) => `${f.name}: failed: ${f.error.message}\n  hint: ${f.error.hint}\n`),
    ...(r.applied.length + r.skipped.length + r.failed.length === 0 ? [`no live patches installed for ${r.release}\n`] : []),
  ].join('');

export function registerInstall(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('install')
    .description('keep a livepatch module under /var/lib/rebootless/<release>/ and load it at boot on that release (systemd unit) (root)')
    .argument('<module.ko>', 'the livepatch module')
    .option('--json', 'print the report as JSON')
    .action(async (ko: string, f: { json?: boolean }) => {
      const r = await installPatch(hostFromEnv(), ko, selfCommand(['load-installed']));
      if (f.json) printJson(ctx.io.stdout, r);
      else {
        ctx.io.stdout.write(`${r.name}: installed for ${r.release} as ${r.file} (position ${r.order.length} of ${r.order.length}); loaded at boot by ${r.unit}\n`);
        ctx.io.stdout.write(`to load it now: rebootless apply ${r.file}\n`);
        for (const w of r.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
      }
      setExit(0);
    });

  program
    .command('uninstall')
    .description('stop loading an installed live patch at boot (the loaded patch stays until rebootless revert) (root)')
    .argument('<name>', 'the patch (module) name')
    .option('--kernel <release>', 'the release it was installed for (default: the running one)')
    .option('--json', 'print the report as JSON')
    .action(async (name: string, f: { kernel?: string; json?: boolean }) => {
      const h = hostFromEnv();
      const r = await uninstallPatch(h, name, f.kernel ?? h.release());
      if (f.json) printJson(ctx.io.stdout, r);
      else ctx.io.stdout.write(`${r.name}: uninstalled for ${r.release}${r.unitRemoved ? '; nothing left installed, boot unit removed' : ''}\n`);
      setExit(0);
    });

  program
    .command('installed')
    .description('list the live patches installed for boot, per release, in stacking order')
    .option('--json', 'print the list as JSON')
    .action(async (f: { json?: boolean }) => {
      const list = await listInstalled(hostFromEnv());
      if (f.json) printJson(ctx.io.stdout, { installed: list });
      else ctx.io.stdout.write(list.length ? table([['RELEASE', 'POS', 'NAME', 'FILE'], ...list.map((p) => [p.release, String(p.position), p.name, p.file])]) : 'no live patches installed\n');
      setExit(0);
    });

  program
    .command('load-installed')
    .description('apply the patches installed for the running release, in stacking order (what the boot unit runs) (root)')
    .option('--timeout <duration>', 'bound for each transition', '60s')
    .option('--json', 'print the report as JSON')
    .action(async (f: { timeout: string; json?: boolean }) => {
      const r = await loadInstalled(hostFromEnv(), { timeoutMs: parseDuration(f.timeout), signal: ctx.signal, onEvent: transitionView(ctx.io.stderr, ctx.color) });
      if (f.json) printJson(ctx.io.stdout, r);
      else ctx.io.stdout.write(renderBoot(r));
      setExit(r.failed.length ? EXIT.error : 0);
    });
}
