import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { kernelsDir, releaseDir } from './cache.js';
import { readManifest, type KernelWorkspace } from './manifest.js';

export interface WorkspaceEntry {
  release: string;
  dir: string;
  state: 'ready' | 'incomplete';
  workspace?: KernelWorkspace;
  /** Why an incomplete workspace is not ready. */
  problem?: string;
}

/** Every release directory under the cache, complete or not. */
export async function listWorkspaces(root: string): Promise<WorkspaceEntry[]> {
  const base = kernelsDir(root);
  const names = await fsp.readdir(base, { withFileTypes: true }).catch(() => []);
  const out: WorkspaceEntry[] = [];
  for (const d of names) {
    if (!d.isDirectory()) continue;
    const dir = path.join(base, d.name);
    try {
      const ws = await readManifest(dir);
      out.push(ws ? { release: d.name, dir, state: 'ready', workspace: ws } : { release: d.name, dir, state: 'incomplete', problem: 'fetch did not finish' });
    } catch (e) {
      out.push({ release: d.name, dir, state: 'incomplete', problem: (e as Error).message });
    }
  }
  return out.sort((a, b) => a.release.localeCompare(b.release));
}

/** The workspace of a fetched release, or RELEASE_NOT_FETCHED. */
export async function loadWorkspace(root: string, release: string): Promise<KernelWorkspace> {
  const ws = await readManifest(releaseDir(root, release));
  if (!ws) throw new RebootlessError('RELEASE_NOT_FETCHED', { release, cacheRoot: root });
  return ws;
}
