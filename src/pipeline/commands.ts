import { objectFor, unitRecords, type UnitCompiler, type UnitRecord } from '../kbuild/compile.js';
import type { PatchedSource } from './types.js';

// Stage 3, commands: kbuild's own compile command for each changed unit
// (kbuild/unit-command.ts), from the release's build cache or learnt by one
// dry run of make for all of them, which writes nothing in the prepared tree.

export async function commands(compiler: UnitCompiler, files: readonly PatchedSource[]): Promise<Map<string, UnitRecord>> {
  const records = await unitRecords(compiler, files.map((f) => objectFor(f.path)));
  return new Map(files.map((f, n) => [f.path, records[n] as UnitRecord]));
}
