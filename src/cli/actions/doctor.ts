import { RebootlessError } from '../../errors/index.js';
import { cacheRoot } from '../../kernel/cache.js';
import { checkRequirements, installCommand, installPackages, type DoctorReport } from '../../kernel/requirements.js';
import { listWorkspaces } from '../../kernel/workspace.js';
import type { KernelWorkspace } from '../../kernel/manifest.js';
import type { CliContext, SetExit } from '../context.js';
import { paint, printJson, table } from '../render.js';

export function renderDoctor(r: DoctorReport, color: boolean): string {
  const rows = [['REQUIREMENT', 'STATUS', 'VERSION', 'FOR']];
  for (const q of r.requirements) {
    rows.push([q.name, q.found ? paint(color, '32', 'found') : paint(color, '31', 'missing'), q.version ?? '-', q.purpose]);
  }
  let text = table(rows);
  for (const c of r.compilers) {
    text += c.matches
      ? `compiler for ${c.release}: ${c.cc} matches (${c.expected})\n`
      : c.source === 'build root'
        ? `compiler for ${c.release}: ${c.cc} from a build root of its Debian release (the host has '${c.found ?? 'none'}'; kernel built with '${c.expected}')\n`
        : `compiler for ${c.release}: ${paint(color, '31', 'mismatch')}: kernel built with '${c.expected}', host ${c.cc} is '${c.found ?? 'missing'}'\n`;
  }
  if (r.missingPackages.length) text += `missing: ${r.missingPackages.join(' ')}\n  install with: rebootless doctor --install  (or: ${installCommand(r.missingPackages)})\n`;
  else if (r.ok) text += 'all requirements found\n';
  return text;
}

async function fetchedWorkspaces(): Promise<KernelWorkspace[]> {
  return (await listWorkspaces(cacheRoot())).flatMap((e) => (e.workspace ? [e.workspace] : []));
}

/** `rebootless doctor [--install]`. */
export async function doctor(ctx: CliContext, setExit: SetExit, opts: { install?: boolean; json?: boolean }): Promise<void> {
  const json = opts.json === true;
  const workspaces = await fetchedWorkspaces();
  let report = await checkRequirements(workspaces);
  if (opts.install && report.missingPackages.length > 0) {
    const isRoot = process.getuid?.() === 0;
    const progress = ctx.progress(json);
    progress.stage('apt-get install', report.missingPackages.join(' '));
    const t0 = Date.now();
    try {
      await installPackages(report.missingPackages, isRoot);
    } finally {
      progress.stageDone('apt-get install', Date.now() - t0);
      progress.close();
    }
    report = await checkRequirements(workspaces);
  }
  if (json) printJson(ctx.io.stdout, report);
  else ctx.io.stdout.write(renderDoctor(report, ctx.color));
  if (!report.ok && report.missingPackages.length > 0 && !json) {
    throw new RebootlessError('REQUIREMENTS_MISSING', { missing: report.missingPackages });
  }
  setExit(report.ok ? 0 : 1);
}
