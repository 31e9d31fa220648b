import { RebootlessError } from '../../../errors/index.js';
import { cacheRoot } from '../../../kernel/cache.js';
import { fetchRelease, hostRelease, type FetchResult } from '../../../kernel/fetch.js';
import { listFetchableReleases, type FetchableRelease } from '../../../kernel/fetchable.js';
import { learnRelease } from '../../../pipeline/learn.js';
import { formatDuration } from '../../../util/progress.js';
import type { CliContext, SetExit } from '../../context.js';
import { printJson, table } from '../../render.js';
import { workspaceJson } from './workspace.js';

/** `kernel fetch --list`: one block per suite family, a row per release. */
export function renderFetchable(rows: FetchableRelease[]): string {
  if (rows.length === 0) return 'no Debian kernel release can be fetched right now\n';
  const out: string[][] = [['FAMILY', 'RELEASE', 'DEBIAN VERSION', 'SUITE', '']];
  for (const r of rows) {
    const marks = [r.host ? 'host' : '', r.cached ? 'cached' : ''].filter(Boolean).join(', ');
    out.push([r.family, r.release, r.debianVersion, r.suite, marks]);
  }
  return table(out);
}

/** The stable JSON shape of one `kernel fetch --list --json` entry. */
export function fetchableJson(r: FetchableRelease) {
  return { release: r.release, family: r.family, suite: r.suite, flavor: r.flavor, debianVersion: r.debianVersion, series: r.series, host: r.host, cached: r.cached };
}

/**
 * Fetches with progress on stderr, then learns how kbuild compiles and links the release (once:
 * pipeline/learn.ts); shared by `kernel fetch`, `build` and `demo`.
 */
export async function fetchWithProgress(ctx: CliContext, requested: string | undefined, json: boolean): Promise<FetchResult> {
  const progress = ctx.progress(json);
  try {
    const r = await fetchRelease({ cacheRoot: cacheRoot(), ...(requested ? { requested } : {}), progress, signal: ctx.signal });
    const t0 = Date.now();
    progress.stage('learn', 'how kbuild compiles and links this release');
    for (const problem of await learnRelease(r.workspace, ctx.signal)) progress.log(`could not learn ${problem}; builds will try again`);
    progress.stageDone('learn', Date.now() - t0);
    return r;
  } finally {
    progress.close();
  }
}

export interface KernelFetchFlags {
  json?: boolean;
  list?: boolean;
}

/** `rebootless kernel fetch [RELEASE] [--list]`. */
export async function kernelFetch(ctx: CliContext, setExit: SetExit, release: string | undefined, opts: KernelFetchFlags): Promise<void> {
  const json = opts.json === true;
  if (opts.list) {
    if (release) throw new RebootlessError('USAGE', { detail: `--list takes no release (got '${release}')` });
    const progress = ctx.progress(json);
    let rows: FetchableRelease[];
    try {
      rows = await listFetchableReleases({ cacheRoot: cacheRoot(), hostRelease: hostRelease(), progress, signal: ctx.signal });
    } finally {
      progress.close();
    }
    if (json) printJson(ctx.io.stdout, rows.map(fetchableJson));
    else ctx.io.stdout.write(renderFetchable(rows));
    setExit(0);
    return;
  }
  const t0 = Date.now();
  const r = await fetchWithProgress(ctx, release, json);
  if (json) printJson(ctx.io.stdout, { ...workspaceJson(r.workspace), cached: r.cached, stages: r.stages });
  else {
    ctx.io.stdout.write(
      `${r.workspace.release} (${r.workspace.debianVersion}) ${r.cached ? 'already fetched' : 'fetched and prepared'} in ${formatDuration(Date.now() - t0)}\n` +
        `  source tree: ${r.workspace.sourceTree}\n  details: rebootless kernel show ${r.workspace.release}\n`,
    );
  }
  setExit(0);
}
