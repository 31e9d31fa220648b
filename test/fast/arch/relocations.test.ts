import { describe, expect, it } from 'vitest';
import { maskRelocatedBytes, relocationType, relocationTypeName, relocationWidth, RELOCATION_TYPES } from '../../../src/arch/x86_64/relocations.js';
import { R_X86_64_32S, R_X86_64_64, R_X86_64_NONE, R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PLT32, R_X86_64_GOTPCREL } from '../../../src/elf/constants.js';
import type { ElfSymbol } from '../../../src/elf/model.js';

const sym: ElfSymbol = { index: 1, name: 'x', value: 0n, size: 0, bind: 1, type: 0, other: 0, section: null, shndx: 0 };

describe('x86-64 relocation types', () => {
  it('knows the kernel’s relocation types: width and pc-relativity', () => {
    expect(relocationType(R_X86_64_PC32)).toEqual({ type: 2, name: 'R_X86_64_PC32', width: 4, pcRelative: true });
    expect(relocationType(R_X86_64_PLT32)).toMatchObject({ width: 4, pcRelative: true });
    expect(relocationType(R_X86_64_64)).toMatchObject({ width: 8, pcRelative: false });
    expect(relocationType(R_X86_64_32S)).toMatchObject({ width: 4, pcRelative: false });
    expect(relocationType(R_X86_64_PC64)).toMatchObject({ width: 8, pcRelative: true });
    expect(relocationType(R_X86_64_GOTPCREL)).toMatchObject({ width: 4, pcRelative: true });
    expect(relocationWidth(R_X86_64_NONE)).toBe(0);
    expect(relocationTypeName(0x2b)).toBe('unrecognized: 2b');
    expect(new Set(RELOCATION_TYPES.map((t) => t.type)).size).toBe(RELOCATION_TYPES.length);
  });

  it('masks the bytes relocations patch, so code compares position-independently', () => {
    const code = new Uint8Array([0xe8, 1, 2, 3, 4, 0x48, 0xc7, 0xc0, 5, 6, 7, 8, 0xc3]);
    const masked = maskRelocatedBytes(code, [
      { offset: 0x101n, type: R_X86_64_PLT32, symbol: sym, addend: -4n },
      { offset: 0x108n, type: R_X86_64_32S, symbol: sym, addend: 0n },
      { offset: 0x10cn, type: R_X86_64_64, symbol: sym, addend: 0n },
    ], 0x100n);
    expect([...masked]).toEqual([0xe8, 0, 0, 0, 0, 0x48, 0xc7, 0xc0, 0, 0, 0, 0, 0]);
    expect(code[1]).toBe(1);
  });
});
