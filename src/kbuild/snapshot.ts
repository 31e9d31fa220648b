import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { removePath } from '../util/fs.js';
import { runCommand } from '../util/process.js';

// A cheap writable copy of the prepared (pristine) source tree: every file a
// hard link, so creating one costs seconds and no space. Files are only ever
// replaced (unlink + write), never written in place, so the pristine tree
// never changes. kbuild writes its outputs as new files.

export async function createSnapshot(sourceTree: string, dest: string, signal?: AbortSignal): Promise<string> {
  await removePath(dest);
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  // a registered kernel's tree is a link to its build directory: copy what it points to
  await runCommand('cp', ['-al', await fsp.realpath(sourceTree), dest], { ...(signal ? { signal } : {}) });
  return dest;
}

/** Replaces one file of a snapshot, breaking its hard link first. */
export async function replaceFile(tree: string, rel: string, content: string | Uint8Array): Promise<void> {
  const file = path.join(tree, rel);
  await fsp.rm(file, { force: true });
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, content);
}
