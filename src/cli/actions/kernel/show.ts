import { cacheRoot } from '../../../kernel/cache.js';
import { loadWorkspace } from '../../../kernel/workspace.js';
import type { CliContext, SetExit } from '../../context.js';
import { printJson } from '../../render.js';
import { renderWorkspace, workspaceJson } from './workspace.js';

/** `rebootless kernel show RELEASE`. */
export async function kernelShow(ctx: CliContext, setExit: SetExit, release: string, opts: { json?: boolean }): Promise<void> {
  const ws = await loadWorkspace(cacheRoot(), release);
  if (opts.json) printJson(ctx.io.stdout, workspaceJson(ws));
  else ctx.io.stdout.write(renderWorkspace(ws));
  setExit(0);
}
