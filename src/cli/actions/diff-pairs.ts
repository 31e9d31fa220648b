import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { diffObjects, type DiffResult } from '../../diff/index.js';
import { readElfFileSync } from '../../elf/files.js';
import { RebootlessError, type ErrorCode, type ErrorDataMap } from '../../errors/index.js';
import type { WorkerPairs } from './diff-worker.js';

// `rebootless diff` over several pairs: each result handed on in the order
// given. With many pairs and a second core, the later pairs (about half the
// bytes) are diffed by a worker thread meanwhile; an error stops the run
// where it would have stopped one pair at a time.

/** Fewer pairs than this are not worth a thread's start (about 0.2 s with the decoder). */
const PARALLEL_FROM = 6;

type Outcome = { result: DiffResult } | { error: unknown };

/** Calls `each` with every pair's result in order; throws the first error in that order. */
export async function diffPairs(pairs: [string, string][], module: boolean, each: (r: DiffResult) => void): Promise<void> {
  const one = ([orig, patched]: [string, string]): DiffResult => diffObjects(readElfFileSync(orig), readElfFileSync(patched), module ? { module: true } : {});
  const split = pairs.length >= PARALLEL_FROM && os.availableParallelism() > 1 && canStartWorker() ? halfBySize(pairs) : pairs.length;
  const later = split < pairs.length ? startWorker(pairs.slice(split), module) : undefined;
  try {
    for (const p of pairs.slice(0, split)) each(one(p));
    for (const outcome of later?.outcomes ?? []) {
      const o = await outcome;
      if ('error' in o) throw o.error;
      each(o.result);
    }
  } finally {
    // an error here leaves the worker nothing to do
    await later?.stop();
  }
}

/** Built, always; from source, only when run through tsx (`node --import tsx`; not inside vitest, whose loader a thread does not have). */
const canStartWorker = (): boolean => !import.meta.url.endsWith('.ts') || process.execArgv.includes('tsx');

/** Where the first half of the bytes to read ends. */
function halfBySize(pairs: [string, string][]): number {
  const sizes = pairs.map(([a, b]) => size(a) + size(b));
  const total = sizes.reduce((x, y) => x + y, 0);
  let sum = 0;
  for (const [n, s] of sizes.entries()) {
    sum += s;
    if (sum >= total / 2) return Math.min(n + 1, pairs.length - 1);
  }
  return pairs.length - 1;
}

const size = (f: string): number => {
  try {
    return statSync(f).size;
  } catch {
    return 0; // read (and reported) in turn
  }
};

/** One promise per pair, settled as the worker posts it; the worker ends after the last or the first error. */
function startWorker(pairs: [string, string][], module: boolean): { outcomes: Promise<Outcome>[]; stop: () => Promise<unknown> } {
  // diff-worker.js beside this file once built (bundled or not); from source, diff-worker.ts through tsx
  const self = fileURLToPath(import.meta.url);
  const fromSource = self.endsWith('.ts');
  const file = path.join(path.dirname(self), fromSource ? 'diff-worker.ts' : 'diff-worker.js');
  const settle: ((o: Outcome) => void)[] = [];
  const outcomes = pairs.map(() => new Promise<Outcome>((resolve) => settle.push(resolve)));
  const workerData = { pairs, module } satisfies WorkerPairs;
  const worker = fromSource
    ? // tsx registered in the thread first (its --import does not reach threads), then the TypeScript file
      new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); })`, { eval: true, workerData })
    : new Worker(file, { workerData });
  let next = 0;
  const fail = (error: unknown): void => {
    while (next < pairs.length) settle[next++]?.({ error });
  };
  worker.on('message', (m: { n: number; result?: DiffResult; error?: { code: ErrorCode; data: ErrorDataMap[ErrorCode] } | { message: string } }) => {
    if (m.result) {
      next = m.n + 1;
      return settle[m.n]?.({ result: m.result });
    }
    // this pair and every later one end with the error
    next = m.n;
    const e = m.error;
    fail(e && 'code' in e ? new RebootlessError(e.code, e.data) : new Error(e?.message ?? 'the diff worker failed'));
  });
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the diff worker stopped before its last pair')));
  return { outcomes, stop: () => worker.terminate() };
}
