import path from 'node:path';
import { hostPath, readTextIfAny, subdirectories, type LiveHost } from './host.js';

// What is installed for boot (read only): /var/lib/rebootless/<release>/ holds
// the modules and an `order` file. Writing them is install.ts's.

export interface InstalledPatch {
  release: string;
  name: string;
  file: string;
  /** 1-based position in the stacking order. */
  position: number;
}

export const libDir = (h: LiveHost, release?: string): string => hostPath(h, 'var/lib/rebootless', ...(release ? [release] : []));

export async function readOrder(h: LiveHost, release: string): Promise<string[]> {
  return ((await readTextIfAny(path.join(libDir(h, release), 'order'))) ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
}

export const installedFile = (h: LiveHost, release: string, name: string): string => path.join(libDir(h, release), `${name}.ko`);

export async function listInstalled(h: LiveHost): Promise<InstalledPatch[]> {
  const releases = await subdirectories(libDir(h));
  const out: InstalledPatch[] = [];
  for (const release of releases) {
    (await readOrder(h, release)).forEach((name, i) => out.push({ release, name, file: installedFile(h, release, name), position: i + 1 }));
  }
  return out;
}
