import { promises as fsp } from 'node:fs';
import { RebootlessError } from '../errors/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { factsOf, formatStat, parseStat, scanTree, type FileFacts } from '../util/tree-scan.js';

// The content manifest of a prepared tree: every regular file (mode, size,
// SHA-256, and the stat that lets a quick verify skip re-reading it) and
// every symlink (its target), recorded when `kernel fetch` or `kernel add`
// finishes, so `verifyTree` can prove builds left the tree as it was.
// Directories are not content; nor are kbuild's transient `.tmp_*` files and
// directories in the tree's root (`try-run` makes and removes them).

/** Plain text, ~12 MB for a 6.1 tree: gzip makes it 4 MB, but inflating it took 0.2–0.4 s here, a fifth of a quick verify. */
export const TREE_MANIFEST_FILE = 'tree-manifest';
const MAGIC = 'rebootless tree-manifest 1';

export interface TreeFile {
  path: string;
  kind: 'file';
  /** Permission bits. */
  mode: number;
  size: number;
  sha256: string;
  /** The stat a quick verify compares; a file with the same size, mtime and inode is taken as unchanged. */
  mtimeNs: string;
  ino: string;
}

export interface TreeSymlink {
  path: string;
  kind: 'symlink';
  target: string;
}

export type TreeEntry = TreeFile | TreeSymlink;

export interface TreeManifestHead {
  /** The tree as recorded (verify checks the workspace's tree, wherever the cache is now). */
  root: string;
  recordedAt: string;
  /**
   * Wall clock when recording started, in ns. A file modified this late may
   * have changed again within the same clock tick after it was hashed: a
   * quick verify does not trust its stat (git's "racy" files).
   */
  startedNs: string;
}

export interface TreeManifest extends TreeManifestHead {
  /** Sorted by path, relative with `/`. */
  entries: TreeEntry[];
}

/** Not content: kbuild's transient files and directories in the tree's root (names in the root only). */
export const TRANSIENT = /^\.tmp_/;

// One line per entry, tab-separated, the path last; a file's stat fields are
// formatStat's string, so a quick verify compares them without parsing:
//   f <mode, octal> <size> <mtime ns> <inode> <sha256> <path>
//   l <target> <path>
// A path or target with a control character, a non-ASCII one or a leading `"`
// is written as a JSON string with \u escapes: the file is ASCII, read back
// without UTF-8 decoding.
function needsQuotes(s: string): boolean {
  if (s.startsWith('"')) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return true;
  }
  return false;
}
const text = (s: string): string =>
  needsQuotes(s) ? JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : s;
const untext = (s: string): string => (s.startsWith('"') ? (JSON.parse(s) as string) : s);
const FILE_LINE = /^f\t[0-7]{1,4}\t\d+\t\d+\t\d+\t[0-9a-f]{64}\t[^\t]+$/;
const SYMLINK_LINE = /^l\t[^\t]+\t[^\t]+$/;

/** Every field of a line in its form (the index checks only a line's kind and path: a quick verify reads the rest of most lines through the stat). */
export const isWellFormedLine = (line: string): boolean => FILE_LINE.test(line) || SYMLINK_LINE.test(line);

export const fileLinePrefix = (stat: string): string => `f\t${stat}\t`;

export function lineOf(e: TreeEntry): string {
  return e.kind === 'file' ? `${fileLinePrefix(formatStat(e))}${e.sha256}\t${text(e.path)}` : `l\t${text(e.target)}\t${text(e.path)}`;
}

/** The entry of a well-formed line (isWellFormedLine). */
export function entryOfLine(line: string): TreeEntry {
  const f = line.split('\t');
  if (f[0] === 'l') return { path: untext(f[2] as string), kind: 'symlink', target: untext(f[1] as string) };
  const [, mode, size, mtimeNs, ino, sha256, rel] = f as [string, string, string, string, string, string, string];
  return { path: untext(rel), kind: 'file', ...parseStat(`${mode}\t${size}\t${mtimeNs}\t${ino}`), sha256 };
}

/** A tree entry from what the scan found; undefined for what is not content (gone, a FIFO, ...). */
export function entryOf(rel: string, f: FileFacts): TreeEntry | undefined {
  if (f.kind === 'symlink') return { path: rel, kind: 'symlink', target: f.target ?? '' };
  if (f.kind !== 'file') return undefined;
  return { path: rel, kind: 'file', ...parseStat(f.stat), sha256: f.sha256 ?? '' };
}

export interface RecordOptions {
  /** Bytes hashed so far. */
  onBytes?: (done: number) => void;
  signal?: AbortSignal;
}

/** Walks, stats and hashes `root` (see util/tree-scan.ts). */
export async function recordTree(root: string, o: RecordOptions = {}): Promise<TreeManifest> {
  const startedNs = String(BigInt(Date.now()) * 1_000_000n);
  const scanned = await scanTree(root, { hash: true, skipTopLevel: TRANSIENT, ...(o.onBytes ? { onBytes: o.onBytes } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  const entries: TreeEntry[] = [];
  scanned.forEach((rel, kind, stat, extra) => {
    const e = entryOf(rel, factsOf(kind, stat, extra));
    if (e) entries.push(e);
  });
  entries.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return { root, recordedAt: new Date().toISOString(), startedNs, entries };
}

export function serializeTreeManifest(m: TreeManifest): string {
  const files = m.entries.filter((e) => e.kind === 'file').length;
  const head = { root: m.root, recordedAt: m.recordedAt, startedNs: m.startedNs, files, symlinks: m.entries.length - files };
  return [MAGIC, JSON.stringify(head), ...m.entries.map(lineOf)].join('\n') + '\n';
}

/** A manifest's head and its entry lines by path, every line checked: what a verify compares against without parsing each entry. */
export interface TreeManifestIndex {
  head: TreeManifestHead;
  lines: Map<string, string>;
}

const LINES_PER_STEP = 8192;

/**
 * Checks a manifest (magic, header, each line a file or a symlink, paths
 * sorted and unique, the counts) while indexing its lines by path. A
 * generator that hands the thread back every few thousand lines: a verify
 * scans the tree on worker threads meanwhile, and they need this thread to
 * hand out work.
 */
function* indexSteps(body: string, file: string): Generator<void, TreeManifestIndex> {
  const bad = invalid(file);
  const all = body.split('\n');
  if (all[0] !== MAGIC) throw bad(`not a tree manifest (first line is not '${MAGIC}')`);
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(all[1] ?? '') as Record<string, unknown>;
  } catch {
    throw bad('line 2: header is not JSON');
  }
  const str = (k: string): string => {
    const v = head[k];
    if (typeof v !== 'string') throw bad(`header field '${k}' missing`);
    return v;
  };
  const index: TreeManifestIndex = { head: { root: str('root'), recordedAt: str('recordedAt'), startedNs: str('startedNs') }, lines: new Map() };
  if (all[all.length - 1] !== '') throw bad('truncated (no final newline)');
  let files = 0;
  let prev = '';
  for (let i = 2; i < all.length - 1; i++) {
    if (i % LINES_PER_STEP === 0) yield;
    const line = all[i] as string;
    if (line.startsWith('f\t')) files++;
    else if (!line.startsWith('l\t')) throw bad(`line ${i + 1}: not a file or symlink entry`);
    let p: string;
    try {
      p = untext(line.slice(line.lastIndexOf('\t') + 1));
    } catch {
      throw bad(`line ${i + 1}: malformed quoted path`);
    }
    if (p <= prev) throw bad(`line ${i + 1}: path '${p}' out of order or repeated`);
    prev = p;
    index.lines.set(p, line);
  }
  if (head.files !== files || head.symlinks !== index.lines.size - files) throw bad('entry counts differ from the header');
  return index;
}

const invalid =
  (file: string) =>
  (detail: string): RebootlessError =>
    new RebootlessError('MANIFEST_INVALID', { path: file, detail }, { location: { file } });

/** MANIFEST_INVALID for a line that is not well-formed. */
export const malformedLine = (file: string, line: string): RebootlessError => invalid(file)(`malformed ${line.startsWith('f\t') ? 'file' : 'symlink'} entry: ${line.slice(0, 200)}`);

const finish = <T>(steps: Generator<void, T>): T => {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
};

export function indexTreeManifest(body: string, file: string): TreeManifestIndex {
  return finish(indexSteps(body, file));
}

/** The whole manifest, every field of every line checked. */
export function parseTreeManifest(body: string, file: string): TreeManifest {
  const { head, lines } = indexTreeManifest(body, file);
  const entries: TreeEntry[] = [];
  for (const line of lines.values()) {
    if (!isWellFormedLine(line)) throw malformedLine(file, line);
    entries.push(entryOfLine(line));
  }
  return { ...head, entries };
}

export async function writeTreeManifest(file: string, m: TreeManifest): Promise<void> {
  await writeFileAtomic(file, serializeTreeManifest(m));
}

/** The manifest at `file`, indexed, or undefined when there is none. */
export async function readTreeManifestIndex(file: string): Promise<TreeManifestIndex | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  // ASCII (see text()): Latin-1 decoding is a copy (UTF-8 decoding took 0.2 s here, checking for ASCII 0.1 s)
  const steps = indexSteps(bytes.toString('latin1'), file);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
