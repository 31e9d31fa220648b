import { RebootlessError } from '../../errors/index.js';
import { checkRequirements, installPackages } from '../../kernel/requirements.js';
import { runCommand } from '../../util/process.js';
import type { CliContext } from '../context.js';

/**
 * For the commands a newcomer runs first (`demo`): install what the host
 * lacks when we are root, else stop with the exact command to run.
 */
export async function ensureRequirements(ctx: CliContext, json: boolean): Promise<void> {
  const report = await checkRequirements();
  if (report.missingPackages.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) throw new RebootlessError('REQUIREMENTS_MISSING', { missing: report.missingPackages });
  const progress = ctx.progress(json);
  progress.log(`installing missing host packages: ${report.missingPackages.join(' ')}`);
  const t0 = Date.now();
  progress.stage('apt-get install');
  try {
    await installPackages(report.missingPackages, isRoot);
    progress.stageDone('apt-get install', Date.now() - t0);
  } finally {
    progress.close();
  }
}

/** Runs apt-get update when apt knows no kernel packages and we are root; returns whether it did. */
export async function refreshAptLists(e: unknown): Promise<boolean> {
  if (!(e instanceof RebootlessError) || e.code !== 'APT_LISTS_EMPTY' || process.getuid?.() !== 0) return false;
  await runCommand('apt-get', ['update', '-q']);
  return true;
}
