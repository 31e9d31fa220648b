import { realpathSync } from 'node:fs';
import { EXIT } from '../../errors/index.js';
import { loadInstalled, type BootReport } from '../../runtime/boot.js';
import { installPatch, listInstalled, uninstallPatch } from '../../runtime/install.js';
import type { CliContext, SetExit } from '../context.js';
import { hostFromEnv } from '../live-host.js';
import { parseDuration } from './option-values.js';
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

/** `rebootless install MODULE.ko`. */
export async function install(ctx: CliContext, setExit: SetExit, ko: string, f: { json?: boolean }): Promise<void> {
  const r = await installPatch(hostFromEnv(), ko, selfCommand(['load-installed']));
  if (f.json) printJson(ctx.io.stdout, r);
  else {
    ctx.io.stdout.write(`${r.name}: installed for ${r.release} as ${r.file} (position ${r.order.length} of ${r.order.length}); loaded at boot by ${r.unit}\n`);
    ctx.io.stdout.write(`to load it now: rebootless apply ${r.file}\n`);
    for (const w of r.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
  }
  setExit(0);
}

/** `rebootless uninstall NAME`. */
export async function uninstall(ctx: CliContext, setExit: SetExit, name: string, f: { kernel?: string; json?: boolean }): Promise<void> {
  const h = hostFromEnv();
  const r = await uninstallPatch(h, name, f.kernel ?? h.release());
  if (f.json) printJson(ctx.io.stdout, r);
  else ctx.io.stdout.write(`${r.name}: uninstalled for ${r.release}${r.unitRemoved ? '; nothing left installed, boot unit removed' : ''}\n`);
  setExit(0);
}

/** `rebootless installed`. */
export async function installed(ctx: CliContext, setExit: SetExit, f: { json?: boolean }): Promise<void> {
  const list = await listInstalled(hostFromEnv());
  if (f.json) printJson(ctx.io.stdout, { installed: list });
  else ctx.io.stdout.write(list.length ? table([['RELEASE', 'POS', 'NAME', 'FILE'], ...list.map((p) => [p.release, String(p.position), p.name, p.file])]) : 'no live patches installed\n');
  setExit(0);
}

/** `rebootless load-installed` (what the boot unit runs). */
export async function loadInstalledPatches(ctx: CliContext, setExit: SetExit, f: { timeout: string; json?: boolean }): Promise<void> {
  const r = await loadInstalled(hostFromEnv(), { timeoutMs: parseDuration(f.timeout), signal: ctx.signal, onEvent: transitionView(ctx.io.stderr, ctx.color) });
  if (f.json) printJson(ctx.io.stdout, r);
  else ctx.io.stdout.write(renderBoot(r));
  setExit(r.failed.length ? EXIT.error : 0);
}
