import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLivepatch } from '../src/pipeline/index.js';
import { cacheRoot } from '../src/kernel/cache.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import type { KernelWorkspace } from '../src/kernel/manifest.js';
import { formatDuration, silentProgress } from '../src/util/progress.js';

// Targets (issue 6): warm build of a one-file patch ≤ 15 s; cold build from an empty cache ≤ 4 min.
async function buildOnce(ws: KernelWorkspace, dir: string): Promise<Record<string, number>> {
  const r = await buildLivepatch({
    workspace: ws,
    patches: ['examples/cmdline.patch'],
    name: 'bench',
    output: path.join(dir, 'bench.ko'),
    replace: true,
    progress: silentProgress,
  });
  return r.timings;
}

const shares = (t: Record<string, number>): string => {
  const total = Object.values(t).reduce((a, b) => a + b, 0);
  return Object.entries(t)
    .map(([k, v]) => `${k} ${formatDuration(v)} (${((100 * v) / total).toFixed(0)}%)`)
    .join(', ');
};

export async function benchBuild(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-build-'));
  try {
    const warmWs = (await fetchRelease({ cacheRoot: cacheRoot(), progress: silentProgress })).workspace;
    const t0 = performance.now();
    const warm = await buildOnce(warmWs, dir);
    console.log(`build examples/cmdline.patch, warm: ${formatDuration(performance.now() - t0)}  [target ≤ 15s]\n  ${shares(warm)}`);
    const cold = path.join(dir, 'cache');
    const t1 = performance.now();
    const ws = (await fetchRelease({ cacheRoot: cold, progress: silentProgress })).workspace;
    const fetchMs = performance.now() - t1;
    const coldStages = await buildOnce(ws, dir);
    console.log(`build from an empty cache: ${formatDuration(performance.now() - t1)} (fetch ${formatDuration(fetchMs)})  [target ≤ 4m]\n  ${shares(coldStages)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
