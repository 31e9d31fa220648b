import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/fs.js';

// The original object of a unit is the same for every patch of a release:
// kept in the workspace's build cache, keyed by the unit's kbuild record
// (compiler, flags, paths) and the source text, and checked against the
// hash stored beside it each time it is read. Anything that does not match
// is compiled again and replaces it.

export interface ObjectKey {
  object: string;
  record: string;
  source: string | Uint8Array;
}

/** Hex SHA-256 of a text or bytes (the build cache's keys and checks). */
export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const files = (dir: string, object: string): { bytes: string; meta: string } => ({ bytes: path.join(dir, 'objects', object), meta: path.join(dir, 'objects', `${object}.json`) });
const keyOf = (k: ObjectKey): string => sha256(JSON.stringify({ record: k.record, source: sha256(k.source) }));

/** The cached original object's bytes, or undefined when absent, stale or damaged. */
export async function cachedObject(dir: string, k: ObjectKey): Promise<Uint8Array | undefined> {
  const f = files(dir, k.object);
  const meta = await fsp.readFile(f.meta, 'utf8').then((t) => JSON.parse(t) as { key?: unknown; sha256?: unknown }, () => undefined);
  if (meta?.key !== keyOf(k)) return undefined;
  const bytes = await fsp.readFile(f.bytes).catch(() => undefined);
  return bytes && sha256(bytes) === meta.sha256 ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
}

/** Keeps `bytes` as the original object for `k` (object first, then its key: a reader never trusts a half-written pair). */
export async function storeObject(dir: string, k: ObjectKey, bytes: Uint8Array): Promise<void> {
  const f = files(dir, k.object);
  await fsp.mkdir(path.dirname(f.bytes), { recursive: true });
  await writeFileAtomic(f.bytes, bytes);
  await writeFileAtomic(f.meta, JSON.stringify({ key: keyOf(k), sha256: sha256(bytes) }) + '\n');
}
