import { existsSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, type KernelWorkspace } from './manifest.js';

// What builds keep between runs for a release (kbuild's compile records of
// units, original objects), in the release's workspace beside its tree,
// never inside it: `<workspace>/build-cache`. The workspace is the directory
// holding the manifest, found upward from the tree as the manifest names it
// (`<ws>/source/linux-source-N` when fetched, `<ws>/build` when added).

export const BUILD_CACHE_DIR = 'build-cache';

/** The release's build cache directory, or undefined for a workspace not in a cache (then nothing is kept). */
export function buildCacheDir(ws: Pick<KernelWorkspace, 'sourceTree'>): string | undefined {
  let dir = path.dirname(path.resolve(ws.sourceTree));
  for (let up = 0; up < 3; up++, dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, MANIFEST_FILE))) return path.join(dir, BUILD_CACHE_DIR);
  }
  return undefined;
}
