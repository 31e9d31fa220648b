import { describe, expect, it } from 'vitest';
import { baseName, nameShape, specialStaticName } from '../../../src/diff/names.js';
import { STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../../src/elf/constants.js';
import type { ElfSection, ElfSymbol } from '../../../src/elf/model.js';

// Compiler-made names. gcc's are covered by the C fixtures of cases.test.ts; clang's
// (`function.var`) need clang, so they are checked here on symbols built in memory.

const section = (name: string): ElfSection => ({ name }) as ElfSection;
const symbol = (name: string, sec: string, bind = STB_LOCAL, type = STT_OBJECT): ElfSymbol =>
  ({ index: 1, name, value: 0n, size: 8, bind, type, other: 0, section: section(sec), shndx: 1 }) as ElfSymbol;

describe('compiler-made names', () => {
  it("__UNIQUE_ID names lose the counter before the dot and gcc's number after it", () => {
    expect(baseName('__UNIQUE_ID_ddebug1130.186')).toBe('__UNIQUE_ID_ddebug');
    expect(baseName('__UNIQUE_ID_ddebug451')).toBe('__UNIQUE_ID_ddebug');
    expect(nameShape('__UNIQUE_ID_ddebug1130.186')).toBe(nameShape('__UNIQUE_ID_ddebug1131.187'));
  });

  it('kernel-macro statics, as gcc and clang name them', () => {
    expect(specialStaticName(symbol('__key.50719', '.bss.__key.50719'))).toBe('__key');
    expect(specialStaticName(symbol('ioctx_alloc.__key.40', '.bss'))).toBe('__key');
    expect(specialStaticName(symbol('init_srcu_struct_fields.__key', '.bss'))).toBe('__key');
    expect(specialStaticName(symbol('descriptor.68456', '__verbose'))).toBe('descriptor');
    expect(specialStaticName(symbol('__UNIQUE_ID_ddebug1396.12', '__dyndbg'))).toBe('__UNIQUE_ID_ddebug');
    // an ordinary static, a global and a function that merely look alike
    expect(specialStaticName(symbol('count.3', '.bss'))).toBeUndefined();
    expect(specialStaticName(symbol('my.__key', '.bss', STB_GLOBAL))).toBeUndefined();
    expect(specialStaticName(symbol('foo.__key', '.text', STB_LOCAL, STT_FUNC))).toBeUndefined();
  });
});
