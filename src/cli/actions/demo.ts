import { runDemo } from '../../demo/index.js';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';
import { fetchWithProgress } from './kernel/fetch.js';
import { workspaceJson } from './kernel/workspace.js';
import { ensureRequirements, refreshAptLists } from './requirements.js';

/** `rebootless demo`. */
export async function demo(ctx: CliContext, setExit: SetExit, opts: { json?: boolean }): Promise<void> {
  const json = opts.json === true;
  const say = (s: string): void => {
    if (!json) ctx.io.stdout.write(s);
  };
  const t0 = Date.now();
  await ensureRequirements(ctx, json);
  const fetched = await fetchWithProgress(ctx, undefined, json).catch(async (e: unknown) => {
    if (await refreshAptLists(e)) return fetchWithProgress(ctx, undefined, json);
    throw e;
  });
  const ws = fetched.workspace;
  const fetchMs = Date.now() - t0;
  say(`1. kernel ${ws.release} (Debian ${ws.debianVersion}) ${fetched.cached ? 'was already fetched' : 'fetched and prepared'} (${formatDuration(fetchMs)})\n`);
  const r = await runDemo({ workspace: ws, progress: ctx.progress(json), say, signal: ctx.signal });
  if (json) {
    const { error, ...rest } = r;
    printJson(ctx.io.stdout, { workspace: workspaceJson(ws), ...rest, ms: { fetch: fetchMs, ...r.ms }, ...(error ? { error: error.toJSON() } : {}) });
  }
  if (r.error) throw r.error;
  say(`The patch took effect in a running ${ws.release} kernel and reverted cleanly, without a reboot (${formatDuration(Date.now() - t0)} in all).\n`);
  setExit(0);
}
