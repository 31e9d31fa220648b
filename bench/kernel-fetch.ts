import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchRelease } from '../src/kernel/fetch.js';
import { learnRelease } from '../src/pipeline/learn.js';
import { formatDuration, silentProgress } from '../src/util/progress.js';

// Goals: cold `kernel fetch` ≤ 45 s on 2 cores (issue 14; ≤ 3 min in issue 2), its
// last step (learning how kbuild compiles and links the release) included; warm ≤ 1 s.
export async function benchKernelFetch(): Promise<void> {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-fetch-'));
  try {
    const t0 = performance.now();
    const cold = await fetchRelease({ cacheRoot: cache, progress: silentProgress });
    const learnStart = performance.now();
    const problems = await learnRelease(cold.workspace);
    const learnMs = performance.now() - learnStart;
    const coldMs = performance.now() - t0;
    console.log(`kernel fetch cold (${cold.workspace.release}): ${formatDuration(coldMs)}  [goal ≤ 45s]`);
    for (const s of [...cold.stages, { name: 'learn', ms: learnMs }]) console.log(`  stage ${s.name.padEnd(13)} ${formatDuration(s.ms).padStart(7)}  ${((100 * s.ms) / coldMs).toFixed(0)}%`);
    for (const p of problems) console.log(`  could not learn ${p}`);
    const warmTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await fetchRelease({ cacheRoot: cache, progress: silentProgress });
      warmTimes.push(performance.now() - t);
    }
    warmTimes.sort((a, b) => a - b);
    console.log(`kernel fetch warm, default release (median of 5): ${formatDuration(warmTimes[2] ?? 0)}  [target ≤ 1s]`);
    const t1 = performance.now();
    await fetchRelease({ cacheRoot: cache, requested: cold.workspace.release, progress: silentProgress });
    console.log(`kernel fetch warm, named release: ${formatDuration(performance.now() - t1)}`);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
