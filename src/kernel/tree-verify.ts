import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError, type TreeModeChange } from '../errors/index.js';
import { pathExists } from '../util/fs.js';
import { formatDuration } from '../util/progress.js';
import { factsOf, inspectFiles, parseStat, scanTree, type FileFacts, type FileStat } from '../util/tree-scan.js';
import type { KernelWorkspace } from './manifest.js';
import { entryOfLine, isWellFormedLine, lineOf, malformedLine, readTreeManifestIndex, TRANSIENT } from './tree-manifest.js';

// `kernel verify`: is a workspace's tree still byte for byte what `kernel
// fetch` prepared (or `kernel add` registered)? The quick pass stats every
// file and reads only those whose size, mtime or inode moved, as git and
// rsync do; `full` reads everything.

/**
 * A file modified less than this before recording started may have changed
 * again in the same clock tick after it was hashed: its stat cannot vouch for
 * its content, so even a quick verify reads it.
 */
const RACY_NS = 2_000_000_000n;

/** What differs, path by path, sorted. A file can be both changed and of another mode. */
export interface TreeDifferences {
  /** Content (or a symlink's target, or file ↔ symlink). */
  changed: string[];
  added: string[];
  removed: string[];
  modeChanged: TreeModeChange[];
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

/** A list cut to its first entries, with the full count. */
export interface CappedList<T> {
  count: number;
  first: T[];
}

export function capList<T>(items: readonly T[], limit: number): CappedList<T> {
  return { count: items.length, first: items.slice(0, limit) };
}

/** a < b, for decimal integers without leading zeros (nanosecond times: no BigInt per file). */
export function decimalBefore(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}

/** A file's stat vouches for its recorded content when size, mtime and inode are the recorded ones and it was not written as recording began. */
export function statVouches(recorded: FileStat, found: FileStat, racyFrom: string): boolean {
  return found.size === recorded.size && found.mtimeNs === recorded.mtimeNs && found.ino === recorded.ino && decimalBefore(recorded.mtimeNs, racyFrom);
}

/**
 * The quick pass's test for most files, allocating nothing: the line records
 * a file of exactly this stat (mode, size, mtime, inode: the stat is the
 * line's second to fifth fields), old enough to vouch for its content.
 */
export function lineVouches(line: string, stat: string, racyFrom: string): boolean {
  if (!line.startsWith('f\t') || !line.startsWith(stat, 2) || line.charCodeAt(2 + stat.length) !== 9) return false;
  const a = stat.indexOf('\t');
  const b = stat.indexOf('\t', a + 1);
  const c = stat.indexOf('\t', b + 1);
  if (c - b - 1 !== racyFrom.length) return c - b - 1 < racyFrom.length;
  for (let i = 0; i < racyFrom.length; i++) {
    const x = stat.charCodeAt(b + 1 + i);
    const y = racyFrom.charCodeAt(i);
    if (x !== y) return x < y;
  }
  return false;
}

/** What one path found says against its recorded line. */
export interface FileCheck {
  /** Content differs (or kind, or a symlink's target). */
  changed: boolean;
  mode?: TreeModeChange;
  /** Only reading the file can tell (same size, but its stat does not vouch for it). */
  reread: boolean;
}

const SAME: FileCheck = { changed: false, reread: false };

/**
 * Checks a path found (a file with its SHA-256 when it was hashed) against
 * its recorded manifest line. `racyFrom`: ns, decimal; a file modified since
 * may have changed again unseen in the same clock tick (see RACY_NS).
 */
export function checkPath(rel: string, line: string, found: FileFacts, racyFrom: string): FileCheck {
  if (found.kind === 'symlink') return line === lineOf({ path: rel, kind: 'symlink', target: found.target ?? '' }) ? SAME : { changed: true, reread: false };
  if (found.kind === 'file' && found.sha256 === undefined && lineVouches(line, found.stat, racyFrom)) return SAME;
  const r = entryOfLine(line);
  if (found.kind !== 'file' || r.kind !== 'file') return { changed: true, reread: false };
  const f = parseStat(found.stat);
  const check: FileCheck = { changed: false, reread: false };
  if (r.mode !== f.mode) check.mode = { path: rel, recorded: octal(r.mode), found: octal(f.mode) };
  if (r.size !== f.size) check.changed = true;
  else if (found.sha256 !== undefined) check.changed = found.sha256 !== r.sha256;
  else check.reread = !statVouches(r, f, racyFrom);
  return check;
}

export interface TreeVerifyOptions {
  /** Read every file, trusting no stat. */
  full?: boolean;
  /** How many paths each list of differences shows (all are counted); default 50. */
  limit?: number;
  onBytes?: (done: number) => void;
  signal?: AbortSignal;
}

export interface TreeVerifyReport {
  ok: boolean;
  /** The workspace's name (`--kernel NAME`): the release, or the name given to `kernel add`. */
  name: string;
  release: string;
  /** Registered with `kernel add`: the tree is the user's build directory. */
  registered: boolean;
  workspace: string;
  tree: string;
  manifest: string;
  recordedAt: string;
  full: boolean;
  files: number;
  symlinks: number;
  /** Files read and hashed: every one with `full`, else those whose stat moved. */
  hashed: number;
  hashedBytes: number;
  changed: CappedList<string>;
  added: CappedList<string>;
  removed: CappedList<string>;
  modeChanged: CappedList<TreeModeChange>;
  ms: number;
}

/** The workspace's directory: the content manifest lives in it. */
const workspaceDir = (ws: KernelWorkspace): string | undefined => (ws.treeManifest ? path.dirname(ws.treeManifest) : undefined);

/** Checks a workspace's tree against its content manifest; throws TREE_MANIFEST_MISSING when it has none. */
export async function verifyTree(ws: KernelWorkspace, o: TreeVerifyOptions = {}): Promise<TreeVerifyReport> {
  const t0 = Date.now();
  const dir = workspaceDir(ws) ?? '';
  const name = path.basename(dir);
  const registered = ws.debianVersion === 'custom';
  const tree = await fsp.realpath(ws.sourceTree).catch(() => ws.sourceTree);
  const manifestFile = ws.treeManifest ?? path.join(dir, '(none)');
  const missing = (): RebootlessError => new RebootlessError('TREE_MANIFEST_MISSING', { name, registered, workspace: dir, tree, manifest: manifestFile });
  if (!ws.treeManifest || !(await pathExists(ws.treeManifest))) throw missing();
  const full = o.full === true;
  const common = { ...(o.signal ? { signal: o.signal } : {}) };
  // the workers scan the tree while this thread reads the manifest
  const scanning = scanTree(tree, { hash: full, skipTopLevel: TRANSIENT, ...common, ...(full && o.onBytes ? { onBytes: o.onBytes } : {}) });
  const recorded = await readTreeManifestIndex(ws.treeManifest).catch(async (e: unknown) => {
    await scanning.catch(() => undefined);
    throw e;
  });
  if (!recorded) {
    await scanning.catch(() => undefined);
    throw missing();
  }
  const scanned = await scanning;

  const racyFrom = String(BigInt(recorded.head.startedNs) - RACY_NS);
  const d: TreeDifferences = { changed: [], added: [], removed: [], modeChanged: [] };
  const take = (rel: string, c: FileCheck): void => {
    if (c.changed) d.changed.push(rel);
    if (c.mode) d.modeChanged.push(c.mode);
  };
  let files = 0;
  let seen = 0;
  const reread: { rel: string; line: string }[] = [];
  scanned.forEach((rel, kind, stat, extra) => {
    if (kind !== 'file' && kind !== 'symlink') return;
    if (kind === 'file') files++;
    const line = recorded.lines.get(rel);
    if (line === undefined) {
      d.added.push(rel);
      return;
    }
    seen++;
    // most files of a quick pass: nothing to do
    if (kind === 'file' && extra === '' && lineVouches(line, stat, racyFrom)) return;
    if (!isWellFormedLine(line)) throw malformedLine(manifestFile, line);
    const c = checkPath(rel, line, factsOf(kind, stat, extra), racyFrom);
    if (c.reread) reread.push({ rel, line });
    else take(rel, c);
  });
  const symlinks = seen + d.added.length - files;
  let hashed = full ? files : 0;
  let hashedBytes = scanned.hashedBytes;
  if (reread.length) {
    const facts = await inspectFiles(
      reread.map((r) => path.join(tree, r.rel)),
      { hash: true, ...common, ...(o.onBytes ? { onBytes: o.onBytes } : {}) },
    );
    reread.forEach(({ rel, line }, k) => {
      const f = facts[k] as FileFacts;
      hashed++;
      if (f.kind === 'file') hashedBytes += parseStat(f.stat).size;
      // gone since the scan
      if (f.kind === 'missing') d.removed.push(rel);
      else take(rel, checkPath(rel, line, f, racyFrom));
    });
  }
  if (seen < recorded.lines.size) {
    const there = new Set<string>();
    scanned.forEach((rel) => there.add(rel));
    for (const p of recorded.lines.keys()) if (!there.has(p)) d.removed.push(p);
  }
  for (const list of [d.changed, d.added, d.removed]) list.sort();
  d.modeChanged.sort((a, b) => (a.path < b.path ? -1 : 1));
  const limit = o.limit ?? 50;
  return {
    ok: d.changed.length + d.added.length + d.removed.length + d.modeChanged.length === 0,
    name,
    release: ws.release,
    registered,
    workspace: dir,
    tree,
    manifest: manifestFile,
    recordedAt: recorded.head.recordedAt,
    full,
    files,
    symlinks,
    hashed,
    hashedBytes,
    changed: capList(d.changed, limit),
    added: capList(d.added, limit),
    removed: capList(d.removed, limit),
    modeChanged: capList(d.modeChanged, limit),
    ms: Date.now() - t0,
  };
}

/** TREE_MODIFIED for a report that is not ok (for the CLI to throw, or to print with `--json`). */
export function treeModifiedError(r: TreeVerifyReport): RebootlessError<'TREE_MODIFIED'> {
  return new RebootlessError('TREE_MODIFIED', {
    name: r.name,
    registered: r.registered,
    workspace: r.workspace,
    tree: r.tree,
    recordedAt: r.recordedAt,
    changed: r.changed.first,
    changedCount: r.changed.count,
    added: r.added.first,
    addedCount: r.added.count,
    removed: r.removed.first,
    removedCount: r.removed.count,
    modeChanged: r.modeChanged.first,
    modeChangedCount: r.modeChanged.count,
  });
}

/** The human line of `kernel verify` (the paths that differ are TREE_MODIFIED's message, thrown beside it). */
export function renderTreeVerify(r: TreeVerifyReport): string {
  const how = r.full ? `every file read (${r.hashed})` : `quick: sizes, mtimes and inodes, ${r.hashed} file(s) read; --full reads every file`;
  const verdict = r.ok
    ? 'as recorded'
    : `NOT as recorded: ${r.changed.count} changed, ${r.added.count} added, ${r.removed.count} removed, ${r.modeChanged.count} with another mode`;
  return `${r.name}: ${r.tree} is ${verdict} (${r.recordedAt}): ${r.files} files, ${r.symlinks} symlinks (${how}) in ${formatDuration(r.ms)}\n`;
}
