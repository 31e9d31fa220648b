import os from 'node:os';
import { objectFor, unitRecord, type UnitCompiler, type UnitRecord } from '../kbuild/compile.js';
import { mapLimit } from '../util/concurrency.js';
import type { PatchedSource } from './types.js';

// Stage 2, commands: kbuild's own compile command for each changed unit
// (kbuild/unit-command.ts), from the release's build cache or learnt by a
// dry run of make that writes nothing in the prepared tree.

export async function commands(compiler: UnitCompiler, files: readonly PatchedSource[]): Promise<Map<string, UnitRecord>> {
  const records = await mapLimit(files, Math.max(1, os.cpus().length), (f) => unitRecord(compiler, objectFor(f.path)));
  return new Map(files.map((f, n) => [f.path, records[n] as UnitRecord]));
}
