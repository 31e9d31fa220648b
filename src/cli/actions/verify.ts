import { RebootlessError } from '../../errors/index.js';
import { verifyModuleFile, type VerifyReport } from '../../pipeline/verify.js';
import { cacheRoot } from '../../kernel/cache.js';
import type { KernelWorkspace } from '../../kernel/manifest.js';
import { listWorkspaces, loadWorkspace } from '../../kernel/workspace.js';
import { readModuleFile } from '../../runtime/module-file.js';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';
import { workspaceFor } from './kernel/workspace.js';

export function renderVerify(r: VerifyReport): string {
  const head = `${r.module}: ${r.ok ? 'verified' : `${r.violations.length} violation(s)`} against ${r.release} (${r.objects.join(', ')}) in ${formatDuration(r.ms)}`;
  const compared = r.compared.length ? `  references compared with the originals of: ${r.compared.join(', ')}` : '  no replaced function could be compared with its original';
  return `${[head, compared].join('\n')}\n`;
}

/** The release the module was built for when it is fetched, else --kernel, else the only fetched one. */
export async function verifyWorkspace(ko: string, release: string | undefined): Promise<KernelWorkspace> {
  if (release) return workspaceFor(release);
  const built = (await readModuleFile(ko)).release;
  const ready = (await listWorkspaces(cacheRoot())).filter((e) => e.state === 'ready').map((e) => e.release);
  return built && ready.includes(built) ? loadWorkspace(cacheRoot(), built) : workspaceFor(undefined);
}

/** `rebootless verify MODULE.ko`. */
export async function verify(ctx: CliContext, setExit: SetExit, ko: string, f: { kernel?: string; json?: boolean }): Promise<void> {
  const ws = await verifyWorkspace(ko, f.kernel);
  const r = await verifyModuleFile(ko, ws);
  const err = r.ok ? undefined : new RebootlessError('VERIFY_FAILED', { module: r.module, against: r.release, violations: r.violations });
  if (f.json) {
    printJson(ctx.io.stdout, { ...r, ...(err ? { error: err.toJSON() } : {}) });
    setExit(err ? err.exitCode : 0);
    return;
  }
  if (err) throw err;
  ctx.io.stdout.write(renderVerify(r));
  setExit(0);
}
