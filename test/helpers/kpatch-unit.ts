import { readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './run-cli.js';

// kpatch's unit test object pairs (test/fixtures/kpatch-unit/ORIGIN.md), for the
// fast test that holds the differ to kpatch's verdicts and for the bench that times it.

export const KPATCH_UNIT_DIR = path.join(REPO, 'test/fixtures/kpatch-unit/x86_64');

export interface KpatchUnitPair {
  name: string;
  /** file names in KPATCH_UNIT_DIR */
  orig: string;
  patched: string;
}

/** `NAME.ORIG.o` with `NAME.PATCHED.o` or `NAME.PATCHED.FAIL.o` (`NAME.NOSTRIP.*` keeps debug info), by name. */
export function kpatchUnitPairs(dir = KPATCH_UNIT_DIR): KpatchUnitPair[] {
  const files = new Set(readdirSync(dir));
  return [...files]
    .filter((f) => f.endsWith('.ORIG.o'))
    .sort()
    .map((orig) => {
      const stem = orig.slice(0, -'.ORIG.o'.length);
      const patched = [`${stem}.PATCHED.o`, `${stem}.PATCHED.FAIL.o`].find((f) => files.has(f)) ?? `${stem}.PATCHED.o`;
      return { name: stem.replace(/\.NOSTRIP$/, ''), orig, patched };
    });
}
