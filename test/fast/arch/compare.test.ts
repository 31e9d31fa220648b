import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { firstDifferingInstruction, type CodeView } from '../../../src/arch/x86_64/compare.js';
import { buildIndex } from '../../../src/elf/lookup.js';
import type { ElfRela } from '../../../src/elf/model.js';
import { parseElf } from '../../../src/elf/parse.js';
import { compileFixture } from '../../helpers/elf-fixtures.js';

const orig = parseElf(readFileSync(compileFixture('variant.c')));
const patched = parseElf(readFileSync(compileFixture('variant.c', ['-DPATCHED'])));

function functionView(file: typeof orig, name: string): CodeView {
  const idx = buildIndex(file);
  const sym = idx.findSymbolByName(name);
  if (!sym?.section) throw new Error(`no ${name}`);
  const start = sym.value;
  return {
    code: sym.section.data.subarray(Number(start), Number(start) + sym.size),
    relas: idx.findRelasInRange(sym.section, start, start + BigInt(sym.size)),
    start,
  };
}

/** Strings compare by content, not by their offset in the merged string section. */
function sameTarget(ra: ElfRela, rb: ElfRela): boolean {
  const text = (r: ElfRela): string => {
    const s = r.symbol.section;
    if (s && s.name.startsWith('.rodata.str')) {
      const at = Number(r.symbol.value + r.addend + 4n);
      return `str:${new TextDecoder().decode(s.data.subarray(at, s.data.indexOf(0, at)))}`;
    }
    return `${r.symbol.name || s?.name}${r.addend}`;
  };
  return text(ra) === text(rb);
}

describe('position-independent comparison of two compilations', () => {
  it('finds moved but unchanged code the same', () => {
    expect(firstDifferingInstruction(functionView(orig, 'same_code'), functionView(patched, 'same_code'), sameTarget)).toBeUndefined();
  });

  it('points at the first differing instruction: a changed constant', () => {
    const d = firstDifferingInstruction(functionView(orig, 'changed_constant'), functionView(patched, 'changed_constant'), sameTarget);
    expect(d?.reason).toBe('bytes');
    expect(d?.a?.text).toMatch(/0xa/);
    expect(d?.b?.text).toMatch(/0xb/);
  });

  it('points at the first differing instruction: a changed call target', () => {
    const d = firstDifferingInstruction(functionView(orig, 'changed_call'), functionView(patched, 'changed_call'), sameTarget);
    expect(d?.reason).toBe('relocation');
    expect(d?.a?.text).toMatch(/^(call|jmp)/);
  });
});
