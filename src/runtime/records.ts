import { mkdir, readFile, readdir } from 'node:fs/promises';
import { removePath, writeFileAtomic } from '../util/fs.js';
import { hostPath, type LiveHost } from './host.js';
import { moduleName } from '../util/module-name.js';
import type { KlpTableObject } from '../elf/klp-tables.js';

// What rebootless remembers about a patch it applied, in /run/rebootless
// (tmpfs: gone at reboot, like the patch). sysfs has no description, CVEs or
// times, so status reads them from here.

export interface ApplyRecord {
  name: string;
  file: string;
  release: string;
  description: string | null;
  cves: string[];
  replace: boolean | null;
  objects: KlpTableObject[];
  /** ISO times. */
  loadedAt: string;
  /** When the running (or last) transition began: load, or the start of a revert. */
  transitionStartedAt: string;
  transitionEndedAt: string | null;
  forced: boolean;
  /** Whether apply compared the running code with the release's (absent in records of older versions). */
  liveCode?: 'checked' | 'skipped' | 'unavailable';
}

const recordDir = (h: LiveHost): string => hostPath(h, 'run/rebootless/patches');
const recordPath = (h: LiveHost, name: string): string => `${recordDir(h)}/${moduleName(name)}.json`;

export async function writeRecord(h: LiveHost, r: ApplyRecord): Promise<void> {
  await mkdir(recordDir(h), { recursive: true });
  await writeFileAtomic(recordPath(h, r.name), `${JSON.stringify(r, null, 2)}\n`);
}

export async function readRecord(h: LiveHost, name: string): Promise<ApplyRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(h, name), 'utf8')) as ApplyRecord;
  } catch {
    return undefined;
  }
}

export async function readRecords(h: LiveHost): Promise<ApplyRecord[]> {
  let names: string[];
  try {
    names = (await readdir(recordDir(h))).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const all = await Promise.all(names.map((n) => readRecord(h, n.slice(0, -5))));
  return all.filter((r): r is ApplyRecord => r !== undefined).sort((a, b) => a.loadedAt.localeCompare(b.loadedAt));
}

export const removeRecord = (h: LiveHost, name: string): Promise<void> => removePath(recordPath(h, name));
