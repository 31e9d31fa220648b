import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { releaseDir } from '../src/kernel/cache.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import { listFetchableReleases, type FetchableRelease } from '../src/kernel/fetchable.js';
import { buildLivepatch } from '../src/pipeline/index.js';
import { formatDuration, silentProgress } from '../src/util/progress.js';

// Issue 13: per kernel series, into an empty cache, side by side: the cold
// fetch + prepare (for a build-root series, with the root's creation, and
// again once the root exists) and the warm build of examples/cmdline.patch
// (median of 3). Releases are the archive's newest of each series today.

const SERIES: { label: string; ok: (r: FetchableRelease) => boolean }[] = [
  { label: 'bookworm 6.1 (host gcc-12)', ok: (r) => r.family === 'bookworm' && r.series === '6.1' && r.flavor === 'cloud-amd64' },
  { label: 'bookworm-backports 6.12 (host gcc-12)', ok: (r) => r.family === 'bookworm-backports' && r.flavor === 'cloud-amd64' },
  { label: 'trixie 6.12 (build root gcc-14)', ok: (r) => r.family === 'trixie' && r.flavor === 'cloud-amd64' },
];

export async function benchKernels(): Promise<void> {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-kernels-'));
  const rows: string[][] = [['series', 'release', 'cold fetch + prepare', 'again, root reused', 'warm build (median of 3)']];
  try {
    const releases = await listFetchableReleases({ cacheRoot: cache, progress: silentProgress, hostRelease: '' });
    for (const s of SERIES) {
      const r = releases.find(s.ok);
      if (!r) {
        rows.push([s.label, '(none served today)', '', '', '']);
        continue;
      }
      const t0 = performance.now();
      let ws = (await fetchRelease({ cacheRoot: cache, requested: r.release, progress: silentProgress })).workspace;
      const fetchMs = performance.now() - t0;
      let again = '';
      if (ws.buildRoot) {
        // the same fetch once more, the build root now made: what each further release of the series costs
        rmSync(releaseDir(cache, r.release), { recursive: true, force: true });
        const t1 = performance.now();
        ws = (await fetchRelease({ cacheRoot: cache, requested: r.release, progress: silentProgress })).workspace;
        again = formatDuration(performance.now() - t1);
      }
      const builds: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await buildLivepatch({ workspace: ws, patches: ['examples/cmdline.patch'], name: 'bench', output: path.join(cache, 'bench.ko'), replace: true, progress: silentProgress });
        builds.push(performance.now() - t);
      }
      builds.sort((a, b) => a - b);
      rows.push([s.label, r.release, formatDuration(fetchMs), ws.buildRoot ? again : '(no root)', formatDuration(builds[1] ?? 0)]);
    }
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
}
