import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { R_X86_64_PC32, SHF_ALLOC, SHF_EXECINSTR, SHF_RELA_LIVEPATCH, SHN_LIVEPATCH, SHT_PROGBITS, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../../src/elf/constants.js';
import { createRelocatable } from '../../../src/elf/create.js';
import { addRelaSection, addSection, addSymbol, ensureSectionSymbol, findSymtab } from '../../../src/elf/edit.js';
import { buildIndex } from '../../../src/elf/lookup.js';
import { parseElf } from '../../../src/elf/parse.js';
import { serializeElf } from '../../../src/elf/serialize.js';
import { elfWorkDir, readelf } from '../../helpers/elf-fixtures.js';

function sample() {
  const elf = createRelocatable('lookup.o');
  const text = addSection(elf, { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 16, data: new Uint8Array(0x100) });
  const data = addSection(elf, { name: '.data', type: SHT_PROGBITS, flags: SHF_ALLOC, addralign: 8, data: new Uint8Array(0x40) });
  const secsym = ensureSectionSymbol(elf, text);
  const outer = addSymbol(elf, { name: 'outer', type: STT_FUNC, bind: STB_GLOBAL, section: text, value: 0x10n, size: 0x60 });
  const inner = addSymbol(elf, { name: 'inner', type: STT_FUNC, bind: STB_LOCAL, section: text, value: 0x20n, size: 0x10 });
  const alias = addSymbol(elf, { name: 'alias', type: STT_FUNC, bind: STB_GLOBAL, section: text, value: 0x20n, size: 0x40 });
  const dup1 = addSymbol(elf, { name: 'dup', type: STT_FUNC, bind: STB_LOCAL, section: text, value: 0x80n, size: 0x10 });
  const dup2 = addSymbol(elf, { name: 'dup', type: STT_OBJECT, bind: STB_LOCAL, section: data, value: 0x8n, size: 8 });
  const klpSym = addSymbol(elf, { name: '.klp.sym.vmlinux.printk,0', bind: STB_GLOBAL, shndx: SHN_LIVEPATCH });
  const rela = addRelaSection(elf, text, [
    { offset: 0x30n, type: R_X86_64_PC32, symbol: inner, addend: -4n },
    { offset: 0x12n, type: R_X86_64_PC32, symbol: dup2, addend: -4n },
    { offset: 0x90n, type: R_X86_64_PC32, symbol: outer, addend: -4n },
  ]);
  const klp = addSection(elf, { name: '.klp.rela.vmlinux..text', type: 4, flags: SHF_ALLOC | SHF_RELA_LIVEPATCH | 0x40n, addralign: 8, entsize: 24 });
  klp.link = findSymtab(elf) ?? null;
  klp.base = text;
  klp.relas = [{ offset: 0x40n, type: R_X86_64_PC32, symbol: klpSym, addend: -4n }];
  return { elf, text, data, secsym, outer, inner, alias, dup1, dup2, rela, klp };
}

describe('buildIndex (find-X-by-Y)', () => {
  it('finds the innermost sized symbol containing an offset', () => {
    const { elf, text, data, outer, inner, dup1, dup2 } = sample();
    const idx = buildIndex(elf);
    expect(idx.findSymbolContaining(text, 0x0f)).toBeUndefined();
    expect(idx.findSymbolContaining(text, 0x10)).toBe(outer);
    expect(idx.findSymbolContaining(text, 0x20)).toBe(inner);
    expect(idx.findSymbolContaining(text, 0x2f)).toBe(inner);
    expect(idx.findSymbolContaining(text, 0x30)?.name).toBe('alias');
    expect(idx.findSymbolContaining(text, 0x60n)).toBe(outer);
    expect(idx.findSymbolContaining(text, 0x70)).toBeUndefined();
    expect(idx.findSymbolContaining(text, 0x85)).toBe(dup1);
    expect(idx.findSymbolContaining(data, 0x8)).toBe(dup2);
    expect(idx.findSymbolContaining(data, 0x10)).toBeUndefined();
  });

  it('finds symbols by name (many per name) and by section', () => {
    const { elf, text, secsym, dup1, dup2, outer } = sample();
    const idx = buildIndex(elf);
    expect(idx.findSymbolsByName('dup')).toEqual([dup1, dup2]);
    expect(idx.findSymbolByName('outer')).toBe(outer);
    expect(idx.findSymbolsByName('none')).toEqual([]);
    expect(idx.findSectionSymbol(text)).toBe(secsym);
    expect(idx.findSymbolsBySection(text).map((s) => s.name || '(section)')).toEqual(['(section)', 'outer', 'inner', 'alias', 'dup']);
    expect(idx.findSectionByName('.data')?.name).toBe('.data');
  });

  it('relocation sections ↔ base both ways, relocations by offset', () => {
    const { elf, text, data, rela, klp } = sample();
    const idx = buildIndex(elf);
    expect(idx.findRelaSectionFor(text)).toBe(rela);
    expect(idx.findRelaSectionsFor(text)).toEqual([rela, klp]);
    expect(idx.findRelaSectionFor(data)).toBeUndefined();
    expect(idx.findBaseSection(klp)).toBe(text);
    expect(idx.findRelasBySection(text).map((r) => r.offset)).toEqual([0x12n, 0x30n, 0x40n, 0x90n]);
    expect(idx.findRelaByOffset(text, 0x30)?.symbol.name).toBe('inner');
    expect(idx.findRelaByOffset(text, 0x31)).toBeUndefined();
    expect(idx.findRelasInRange(text, 0x10, 0x70).map((r) => r.offset)).toEqual([0x12n, 0x30n, 0x40n]);
    const first = idx.findRelasBySection(text)[0];
    expect(first && idx.findRelaSectionOf(first)).toBe(rela);
  });

  it('an object built from nothing is written, read back and indexed the same', () => {
    const { elf } = sample();
    const bytes = serializeElf(elf);
    const out = path.join(elfWorkDir(), 'from-nothing.o');
    writeFileSync(out, bytes);
    const r = readelf(['-a', '-W'], out);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/\.klp\.rela\.vmlinux\.\.text +RELA .* AIo /);
    expect(r.stdout).toMatch(/NOTYPE +GLOBAL +DEFAULT +OS \[0xff20\] \.klp\.sym\.vmlinux\.printk,0/);
    const back = parseElf(bytes);
    const idx = buildIndex(back);
    const text = idx.findSectionByName('.text');
    if (!text) throw new Error('no .text');
    expect(idx.findSymbolContaining(text, 0x25)?.name).toBe('inner');
    expect(idx.findRelaSectionsFor(text).map((s) => s.name)).toEqual(['.rela.text', '.klp.rela.vmlinux..text']);
    expect(idx.findRelaByOffset(text, 0x40)?.symbol).toMatchObject({ name: '.klp.sym.vmlinux.printk,0', shndx: SHN_LIVEPATCH, section: null });
  });
});
