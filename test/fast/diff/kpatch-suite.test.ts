import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffObjects } from '../../../src/diff/index.js';
import { readElfFile } from '../../../src/elf/files.js';
import { KPATCH_UNIT, KPATCH_UNIT_PAIRS } from '../../fixtures/kpatch-unit/expectations.js';
import { KPATCH_UNIT_DIR, kpatchUnitPairs } from '../../helpers/kpatch-unit.js';

// kpatch's unit test objects (test/fixtures/kpatch-unit, real kernel objects compiled by
// kpatch's authors): every pair gets kpatch's verdict and the same changed and new functions,
// unless the table says why rebootless answers otherwise.

const DIR = KPATCH_UNIT_DIR;

const PAIRS = kpatchUnitPairs();

describe('kpatch unit objects', () => {
  it(`finds all ${KPATCH_UNIT_PAIRS} pairs, each with an expectation`, () => {
    expect(PAIRS.length).toBe(KPATCH_UNIT_PAIRS);
    expect(PAIRS.map((p) => p.name).sort()).toEqual(Object.keys(KPATCH_UNIT).sort());
  });

  it("the table agrees with kpatch's own counts and failures", () => {
    for (const p of PAIRS) {
      const e = KPATCH_UNIT[p.name];
      if (!e) continue;
      expect(e.kpatch === 'patchable', p.name).toBe(!p.patched.includes('.FAIL.'));
      if (e.kpatchCount !== undefined) expect(e.functions.length, p.name).toBe(e.kpatchCount);
      // a deliberate difference that is no longer one is stale
      if (e.rebootless) expect({ verdict: e.rebootless.verdict, functions: e.rebootless.functions ?? e.functions }, p.name).not.toEqual({ verdict: e.kpatch, functions: e.functions });
    }
  });

  it.each(PAIRS)('$name', async ({ name, orig, patched }) => {
    const e = KPATCH_UNIT[name];
    if (!e) throw new Error(`no expectation for ${name}`);
    const r = diffObjects(await readElfFile(path.join(DIR, orig)), await readElfFile(path.join(DIR, patched)));
    const functions = r.functions
      .filter((f) => f.status === 'changed' || f.status === 'new')
      .map((f) => f.name)
      .sort();
    expect({ verdict: r.verdict, functions }).toEqual({
      verdict: e.rebootless?.verdict ?? e.kpatch,
      // __pfx_ symbols are the padding before a function, carried with it: never listed apart
      functions: (e.rebootless?.functions ?? e.functions).filter((f) => !f.startsWith('__pfx_')).sort(),
    });
    const refusals = e.rebootless ? e.rebootless.refusals : e.refusals;
    if (refusals) expect([...new Set(r.refusals.map((x) => x.code))].sort()).toEqual([...refusals].sort());
  });
});
