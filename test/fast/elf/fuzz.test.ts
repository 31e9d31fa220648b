import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFixture, xindexObject } from '../../helpers/elf-fixtures.js';
import { fuzzElf } from '../../helpers/elf-fuzz.js';

// ≥ 10,000 mutated objects (CI runs this in the fast tier). Reproduce a finding
// with REBOOTLESS_FUZZ_SEED=<seed>; make a longer run with REBOOTLESS_FUZZ_CASES.
// No per-case time limit here (a loaded machine would fail it): a case that never ends
// still fails by the test's timeout, and `npm run bench -- 'elf fuzz'` prints the timings.

const CASES = Number(process.env.REBOOTLESS_FUZZ_CASES ?? 12_000);
const SEED = Number(process.env.REBOOTLESS_FUZZ_SEED ?? 0x5eed);

describe('ELF fuzz (mutations of real compiled objects)', () => {
  it(`${CASES} mutated inputs end in success or a typed ELF error, never an exception or a runaway allocation`, async () => {
    const seeds = [
      { name: 'kernel-like.o', bytes: new Uint8Array(readFileSync(compileFixture('kernel-like.c'))) },
      { name: 'xindex.o', bytes: new Uint8Array(readFileSync(xindexObject())) },
      { name: 'kernel-like-O0.o', bytes: new Uint8Array(readFileSync(compileFixture('kernel-like.c', ['-O0']))) },
    ];
    const report = await fuzzElf(seeds, { cases: CASES, seed: SEED, hangMs: Number.POSITIVE_INFINITY });
    expect(report.findings, JSON.stringify(report.findings.slice(0, 3), null, 2)).toEqual([]);
    expect(report.cases).toBe(CASES);
    // the mutations reach deep: many inputs still parse and write, and every kind of failure shows up
    expect(report.written).toBeGreaterThan(CASES / 10);
    for (const code of ['ELF_NOT_ELF', 'ELF_UNSUPPORTED', 'ELF_TRUNCATED', 'ELF_OUT_OF_RANGE', 'ELF_OVERLAP', 'ELF_TOO_LARGE', 'ELF_MALFORMED']) {
      expect(report.codes[code] ?? 0, `${code} in ${JSON.stringify(report.codes)}`).toBeGreaterThan(0);
    }
  }, 120_000);
});
