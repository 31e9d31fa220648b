import path from 'node:path';
import { fetchRelease } from '../../src/kernel/fetch.js';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { silentProgress } from '../../src/util/progress.js';
import { REPO } from './run-cli.js';

/** The cache the slow tests share within one run (CI points it at a fresh directory). */
export function sharedCache(): string {
  return process.env.REBOOTLESS_CACHE ?? path.join(REPO, '.rebootless-test-cache');
}

/** The default release's workspace in the shared cache, fetched if needed. */
export async function defaultWorkspace(): Promise<KernelWorkspace> {
  const r = await fetchRelease({ cacheRoot: sharedCache(), progress: silentProgress });
  return r.workspace;
}
