import { parentPort, workerData } from 'node:worker_threads';
import { diffObjects } from '../../diff/index.js';
import { readElfFileSync } from '../../elf/files.js';
import { RebootlessError } from '../../errors/index.js';

// A second thread for `rebootless diff` given many pairs (diff-pairs.ts):
// it diffs the pairs it is handed, in order, and posts each result; the
// first error ends it, posted as code and data (or a message).

export interface WorkerPairs {
  pairs: [string, string][];
  module: boolean;
}

const { pairs, module } = workerData as WorkerPairs;
for (const [n, [orig, patched]] of pairs.entries()) {
  try {
    parentPort?.postMessage({ n, result: diffObjects(readElfFileSync(orig), readElfFileSync(patched), module ? { module: true } : {}) });
  } catch (e) {
    parentPort?.postMessage({ n, error: e instanceof RebootlessError ? { code: e.code, data: e.data } : { message: e instanceof Error ? (e.stack ?? e.message) : String(e) } });
    break;
  }
}
