import path from 'node:path';
import { createSnapshot } from '../kbuild/snapshot.js';

// Stage 2, snapshot: a hard-linked copy of the prepared release tree to
// compile in; the cached tree itself is never written.

export function snapshot(sourceTree: string, work: string, signal?: AbortSignal): Promise<string> {
  return createSnapshot(sourceTree, path.join(work, 'tree'), signal);
}
