import { describe, expect, it } from 'vitest';
import { decodeInstructions, findInstructionAt, instructionBoundaries } from '../../../src/arch/x86_64/instructions.js';
import { compileFixture } from '../../helpers/elf-fixtures.js';
import { expectBoundariesLikeObjdump } from '../../helpers/elf-oracles.js';

describe('x86-64 instruction boundaries (iced-x86) against objdump -d', () => {
  it('agree on compiled kernel-like code at several optimisation levels', () => {
    let n = 0;
    for (const flags of [[], ['-O0'], ['-Os'], ['-O3', '-fno-inline']]) n += expectBoundariesLikeObjdump(compileFixture('kernel-like.c', flags));
    expect(n).toBeGreaterThan(200);
  });

  it('agree on hand-written kernel instruction forms (prefixes, VEX, per-CPU, atomics, long NOPs)', () => {
    expect(expectBoundariesLikeObjdump(compileFixture('instructions.S'))).toBeGreaterThan(60);
  });

  it('gives objdump-like text, finds the instruction at an offset, and never throws on junk', () => {
    const code = new Uint8Array([0xe8, 0, 0, 0, 0, 0x48, 0x89, 0xe5, 0x0f, 0x1f, 0x44, 0, 0, 0xc3]);
    const insns = decodeInstructions(code, { address: 0x1000n });
    expect(insns.map((i) => [i.offset, i.length, i.text])).toEqual([
      [0, 5, 'call 0x1005'],
      [5, 3, 'mov %rsp,%rbp'],
      [8, 5, 'nopl 0x0(%rax,%rax)'],
      [13, 1, 'ret'],
    ]);
    expect(findInstructionAt(insns, 10)?.offset).toBe(8);
    expect(findInstructionAt(insns, 14)).toBeUndefined();
    expect(instructionBoundaries(code)).toEqual([0, 5, 8, 13]);
    const junk = new Uint8Array(4096).map((_v, i) => (i * 131 + 7) & 0xff);
    const decoded = decodeInstructions(junk);
    expect(decoded.reduce((n, i) => n + i.length, 0)).toBe(junk.length);
    const cut = decodeInstructions(new Uint8Array([0x90, 0xe8, 0xff, 0xff]));
    expect(cut.map((i) => [i.offset, i.invalid])).toEqual([[0, false], [1, true], [2, true], [3, true]]);
  });

  it('restarts at function starts so padding or data cannot shift later boundaries', () => {
    // 0xb8 starts a 5-byte mov; without the restart at 1 the ret at 1 would be swallowed
    const code = new Uint8Array([0xb8, 0xc3, 0x90, 0x90, 0x90, 0xc3]);
    expect(instructionBoundaries(code)).toEqual([0, 5]);
    expect(instructionBoundaries(code, [1])).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
