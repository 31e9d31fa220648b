import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { RebootlessError } from '../errors/index.js';

// Walking a directory tree with lstat, readlink and SHA-256 of its files, on
// worker threads: a kernel tree is ~80k files and 1.3 GB, which one thread
// hashes in ~4 s. Workers read directories and files with synchronous calls
// into one reused buffer (no promise per file); the main thread hands out
// directories (and the subdirectories they report) as workers become free.

/**
 * A file's stat as one string, `<mode & 0o7777, octal>\t<size>\t<mtime ns>\t<inode>`:
 * two stats are the same exactly when their strings are (what a quick check compares).
 */
export interface FileStat {
  mode: number;
  size: number;
  /** Decimal nanoseconds. */
  mtimeNs: string;
  ino: string;
}

export const formatStat = (s: FileStat): string => `${s.mode.toString(8)}\t${s.size}\t${s.mtimeNs}\t${s.ino}`;

export function parseStat(stat: string): FileStat {
  const [mode, size, mtimeNs, ino] = stat.split('\t') as [string, string, string, string];
  return { mode: parseInt(mode, 8), size: Number(size), mtimeNs, ino };
}

/** What one path is on disk: lstat (fstat of the opened file when hashed), a symlink's target, a file's SHA-256. */
export interface FileFacts {
  kind: 'file' | 'symlink' | 'other' | 'missing';
  /** formatStat's string; empty for `missing`. */
  stat: string;
  /** The link's target, for a symlink. */
  target?: string;
  /** Hex SHA-256 of the content, for a regular file when hashing was asked for. */
  sha256?: string;
}

export interface ScanOptions {
  /** Also hash regular files. */
  hash: boolean;
  threads?: number;
  /** Bytes hashed so far, after each batch. */
  onBytes?: (done: number) => void;
  signal?: AbortSignal;
}

// CommonJS, run with `eval`: the same text works from the TypeScript sources
// (tests) and from dist/. O_NONBLOCK keeps a FIFO that replaced a file from
// blocking the open; O_NOFOLLOW leaves a symlink that replaced one unread.
// Anything that vanishes while it is read is `missing` (or not listed).
// Replies are one string of NUL-separated fields, FIELDS per path (no path
// or link target holds a NUL): a string crosses threads far cheaper than
// 80k small objects.
const FIELDS = 4;
const WORKER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const buf = Buffer.allocUnsafe(1 << 20);
const gone = (e) => e.code === 'ENOENT' || e.code === 'ENOTDIR';
const fail = (p, e) => Object.assign(new Error(p + ': ' + e.message), { code: e.code });
// path, kind, stat (formatStat's), link target or sha256
const line = (p, st, extra) =>
  p + '\\0' + (st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : 'o') + '\\0' + (st.mode & 0o7777n).toString(8) + '\\t' + st.size + '\\t' + st.mtimeNs + '\\t' + st.ino + '\\0' + extra + '\\0';
function hashed(rel, p) {
  let fd;
  try {
    fd = fs.openSync(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    if (e.code === 'ELOOP') return undefined;
    throw e;
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) return line(rel, st, '');
    // the size fstat gave, no more: no read() call just to see the end (one per file, ~80k)
    const h = createHash('sha256');
    const size = Number(st.size);
    for (let done = 0, n; done < size; done += n) {
      n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - done), null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
    hashedBytes += size;
    return line(rel, st, h.digest('hex'));
  } finally {
    fs.closeSync(fd);
  }
}
function inspect(rel, p, hash) {
  try {
    const h = hash ? hashed(rel, p) : undefined;
    if (h !== undefined) return h;
    const st = fs.lstatSync(p, { bigint: true });
    return line(rel, st, st.isSymbolicLink() ? fs.readlinkSync(p) : '');
  } catch (e) {
    if (gone(e)) return rel + '\\0m\\0\\0\\0';
    throw fail(p, e);
  }
}
let hashedBytes = 0;
function scan({ root, dirs, hash, skipTop }) {
  const skip = skipTop === null ? null : new RegExp(skipTop);
  let out = '';
  const subdirs = [];
  for (const d of dirs) {
    let list;
    try {
      list = fs.readdirSync(d === '' ? root : root + '/' + d, { withFileTypes: true });
    } catch (e) {
      if (gone(e)) continue;
      throw fail(root + '/' + d, e);
    }
    for (const de of list) {
      if (d === '' && skip !== null && skip.test(de.name)) continue;
      const rel = d === '' ? de.name : d + '/' + de.name;
      if (de.isDirectory()) subdirs.push(rel);
      else if (de.isFile() || de.isSymbolicLink()) out += inspect(rel, root + '/' + rel, hash);
    }
  }
  return { out, subdirs };
}
parentPort.on('message', (m) => {
  try {
    hashedBytes = 0;
    const reply = m.op === 'scan' ? scan(m) : { start: m.start, out: m.paths.map((p) => inspect(p, p, m.hash)).join('') };
    parentPort.postMessage({ ...reply, bytes: hashedBytes });
  } catch (e) {
    parentPort.postMessage({ error: { message: e.message, code: e.code } });
  }
});
`;

const KIND = { f: 'file', l: 'symlink', o: 'other', m: 'missing' } as const;
export type FileKind = FileFacts['kind'];

/** FileFacts from a scan's fields: `extra` is a symlink's target or a hashed file's SHA-256. */
export function factsOf(kind: FileKind, stat: string, extra: string): FileFacts {
  const facts: FileFacts = { kind, stat };
  if (kind === 'symlink') facts.target = extra;
  else if (kind === 'file' && extra !== '') facts.sha256 = extra;
  return facts;
}

/** Calls `visit` for each path of a reply, in order. */
function eachOfReply(out: string, visit: (rel: string, kind: FileKind, stat: string, extra: string) => void): void {
  const f = out.split('\0');
  for (let i = 0; i + FIELDS <= f.length; i += FIELDS) visit(f[i] as string, KIND[f[i + 1] as keyof typeof KIND], f[i + 2] as string, f[i + 3] as string);
}

/**
 * What a scan found, kept as the workers' replies: a kernel tree is ~80k
 * paths, and an object for each cost more (in garbage collection) than the
 * rest of a quick verify's work on this thread.
 */
export class ScannedTree {
  constructor(
    private readonly replies: readonly string[],
    /** Bytes read and hashed. */
    readonly hashedBytes: number,
  ) {}

  /** Each regular file and symlink (or what replaced one while it was read), in no particular order: its path relative to the root with `/`; `extra` as factsOf's. */
  forEach(visit: (rel: string, kind: FileKind, stat: string, extra: string) => void): void {
    for (const out of this.replies) eachOfReply(out, visit);
  }
}

interface ErrorReply {
  error: { message: string; code?: string };
}
type ScanReply = { out: string; subdirs: string[]; bytes: number } | ErrorReply;
type InspectReply = { start: number; out: string; bytes: number } | ErrorReply;

// The workers live as long as the process (unreferenced while idle, so they
// never keep it running): starting one costs more than scanning a small tree.
// One scan uses them at a time; a failed or interrupted one discards them.
let pool: Worker[] = [];
let last: Promise<unknown> = Promise.resolve();

function workers(n: number): Worker[] {
  while (pool.length < n) {
    // no execArgv: a loader the process runs under (tsx in tests) would load again in each worker, for nothing
    const w = new Worker(WORKER, { eval: true, execArgv: [] });
    const drop = (): void => {
      pool = pool.filter((x) => x !== w);
    };
    w.on('error', drop);
    w.on('exit', drop);
    w.unref();
    pool.push(w);
  }
  return pool.slice(0, n);
}

const IN_FLIGHT = 2;

/** Hands each free worker `next()`'s message (undefined: nothing to do now) and each reply to `take`, until all are idle. */
function runPool<R>(threads: number, o: { signal?: AbortSignal }, next: () => object | undefined, take: (reply: R) => void): Promise<void> {
  const run = last.then(() => runJobs(threads, o, next, take));
  last = run.catch(() => undefined);
  return run;
}

async function runJobs<R>(threads: number, o: { signal?: AbortSignal }, next: () => object | undefined, take: (reply: R) => void): Promise<void> {
  const ws = workers(threads);
  const off: (() => void)[] = [];
  let broken = false;
  try {
    await new Promise<void>((resolve, reject) => {
      // jobs sent and not answered, per worker: two each, so a worker has the next one queued while this thread is busy (collecting garbage)
      const pending = new Map<Worker, number>(ws.map((w) => [w, 0]));
      let outstanding = 0;
      let settled = false;
      const end = (e?: unknown): void => {
        if (settled) return;
        settled = true;
        if (e === undefined) resolve();
        else reject(e);
      };
      const onAbort = (): void => end(new RebootlessError('INTERRUPTED', { signal: 'SIGINT' }));
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      off.push(() => o.signal?.removeEventListener('abort', onAbort));
      const dispatch = (): void => {
        for (let depth = 1; depth <= IN_FLIGHT; depth++) {
          for (const w of ws) {
            if ((pending.get(w) as number) >= depth) continue;
            const job = next();
            if (job === undefined) {
              if (outstanding === 0) end();
              return;
            }
            pending.set(w, (pending.get(w) as number) + 1);
            outstanding++;
            w.postMessage(job);
          }
        }
      };
      for (const w of ws) {
        const onMessage = (reply: R | ErrorReply): void => {
          if (settled) return;
          if (typeof reply === 'object' && reply !== null && 'error' in reply) {
            const err = new Error(`cannot read ${reply.error.message}`) as NodeJS.ErrnoException;
            if (reply.error.code) err.code = reply.error.code;
            return end(err);
          }
          pending.set(w, (pending.get(w) as number) - 1);
          outstanding--;
          take(reply as R);
          dispatch();
        };
        const onExit = (code: number): void => end(new Error(`a file-scanning worker thread exited (code ${code}) before its work was done`));
        w.on('message', onMessage);
        w.on('error', end);
        w.on('exit', onExit);
        w.ref();
        off.push(() => {
          w.off('message', onMessage);
          w.off('error', end);
          w.off('exit', onExit);
          w.unref();
        });
      }
      dispatch();
    });
  } catch (e) {
    broken = true;
    throw e;
  } finally {
    for (const f of off) f();
    if (broken) {
      // a worker may still be busy with a batch of the failed scan
      const old = pool;
      pool = [];
      await Promise.all(old.map((w) => w.terminate()));
    }
  }
}

/** Two threads hash a kernel tree twice as fast as one (measured on 2 cores); beyond 4 the main thread is the bottleneck. */
const threadsFor = (o: { threads?: number }): number => Math.max(1, o.threads ?? Math.min(4, os.availableParallelism()));

/**
 * Every regular file and symlink below `root` (directories are walked, not
 * listed), in no particular order. `skipTopLevel` leaves out names in the
 * root itself, and everything below them.
 */
export async function scanTree(root: string, o: ScanOptions & { skipTopLevel?: RegExp }): Promise<ScannedTree> {
  const replies: string[] = [];
  const queue: string[] = [''];
  const threads = threadsFor(o);
  let bytes = 0;
  await runPool<Exclude<ScanReply, ErrorReply>>(
    threads,
    o,
    () => {
      if (queue.length === 0) return undefined;
      // small batches while the queue is short, so every worker gets some
      const dirs = queue.splice(0, Math.max(1, Math.min(32, Math.floor(queue.length / threads))));
      return { op: 'scan', root, dirs, hash: o.hash, skipTop: o.skipTopLevel?.source ?? null };
    },
    (r) => {
      replies.push(r.out);
      queue.push(...r.subdirs);
      bytes += r.bytes;
      if (o.hash) o.onBytes?.(bytes);
    },
  );
  return new ScannedTree(replies, bytes);
}

const BATCH = 128;

/** Facts about each path, in the order given; a path that does not exist is `missing`. */
export async function inspectFiles(paths: readonly string[], o: ScanOptions): Promise<FileFacts[]> {
  const results = new Array<FileFacts>(paths.length);
  if (paths.length === 0) return results;
  let next = 0;
  let bytes = 0;
  await runPool<Exclude<InspectReply, ErrorReply>>(
    Math.min(threadsFor(o), Math.ceil(paths.length / BATCH)),
    o,
    () => {
      if (next >= paths.length) return undefined;
      const start = next;
      next = Math.min(paths.length, next + BATCH);
      return { op: 'inspect', start, paths: paths.slice(start, next), hash: o.hash };
    },
    (r) => {
      let i = r.start;
      eachOfReply(r.out, (_rel, kind, stat, extra) => {
        results[i++] = factsOf(kind, stat, extra);
      });
      bytes += r.bytes;
      if (o.hash) o.onBytes?.(bytes);
    },
  );
  return results;
}
