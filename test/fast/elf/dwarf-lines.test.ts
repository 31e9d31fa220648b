import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ElfDiagnostics } from '../../../src/elf/diagnostics.js';
import { lineSectionsOf, lineTableUnits } from '../../../src/elf/dwarf-lines.js';
import { parseElf } from '../../../src/elf/parse.js';

// The line table reader against what gcc writes, DWARF 5 and 4: a unit names
// the headers whose types and inline functions it uses, not one that only
// defines a macro it expands.

const work = mkdtempSync(path.join(os.tmpdir(), 'rb-dwarf-lines-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function compile(version: 4 | 5): ReturnType<typeof lineTableUnits> {
  mkdirSync(path.join(work, 'include/linux'), { recursive: true });
  mkdirSync(path.join(work, 'fs/proc'), { recursive: true });
  writeFileSync(path.join(work, 'include/linux/counter.h'), 'struct counter { int n; };\nstatic inline int counter_next(struct counter *c) { return ++c->n; }\n');
  writeFileSync(path.join(work, 'include/linux/limits-only.h'), '#define COUNTER_LIMIT 10\n');
  writeFileSync(path.join(work, 'fs/proc/reads.c'), '#include <linux/counter.h>\n#include <linux/limits-only.h>\nstruct counter reads;\nint read_once(void) { return counter_next(&reads) < COUNTER_LIMIT; }\n');
  const out = path.join(work, `reads-${version}.o`);
  execFileSync('gcc', ['-c', '-O2', `-gdwarf-${version}`, '-I', './include', 'fs/proc/reads.c', '-o', out], { cwd: work });
  // a relocatable object: its string offsets are relocations, applied by lineSectionsOf
  const sections = lineSectionsOf(parseElf(readFileSync(out), { file: out }));
  if (!sections) throw new Error(`${out} has no .debug_line`);
  return lineTableUnits(sections, new ElfDiagnostics(out));
}

describe('DWARF line tables', () => {
  it.each([5, 4] as const)('DWARF %i: the unit and the headers whose types and inline functions it uses', (version) => {
    const units = compile(version);
    expect(units).toHaveLength(1);
    const [u] = units;
    expect(u?.unit).toBe('fs/proc/reads.c');
    expect(u?.files).toContain('./include/linux/counter.h');
    expect(u?.files.some((f) => f.endsWith('limits-only.h'))).toBe(false);
  });

  it('a table cut short is a typed error, not a crash', () => {
    const out = path.join(work, 'reads-5.o');
    compile(5);
    const f = parseElf(readFileSync(out), { file: out });
    const line = f.sections.find((s) => s.name === '.debug_line')?.data as Uint8Array;
    expect(() => lineTableUnits({ line: line.subarray(0, 20) }, new ElfDiagnostics(out))).toThrow(expect.objectContaining({ code: 'ELF_MALFORMED' }));
  });
});
