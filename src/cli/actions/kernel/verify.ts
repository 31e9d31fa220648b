import { EXIT } from '../../../errors/index.js';
import { cacheRoot } from '../../../kernel/cache.js';
import { renderTreeVerify, treeModifiedError, verifyTree } from '../../../kernel/tree-verify.js';
import { loadWorkspace } from '../../../kernel/workspace.js';
import type { CliContext, SetExit } from '../../context.js';
import { printJson } from '../../render.js';

/** `rebootless kernel verify RELEASE`: the prepared tree against the content manifest recorded when it was made. */
export async function kernelVerify(ctx: CliContext, setExit: SetExit, release: string, opts: { full?: boolean; json?: boolean }): Promise<void> {
  const ws = await loadWorkspace(cacheRoot(), release);
  const r = await verifyTree(ws, { full: opts.full === true, signal: ctx.signal });
  if (opts.json) {
    printJson(ctx.io.stdout, r.ok ? r : { ...r, error: treeModifiedError(r).toJSON() });
    setExit(r.ok ? EXIT.ok : EXIT.error);
    return;
  }
  ctx.io.stdout.write(renderTreeVerify(r));
  if (!r.ok) throw treeModifiedError(r);
  setExit(EXIT.ok);
}
