import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRebootlessError } from '../../../src/errors/index.js';
import { ET_EXEC, R_X86_64_PLT32, SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../../src/elf/constants.js';
import { addRelaSection, addSection, addSymbol, ensureSectionSymbol, findSymtab, removeSection, renumber } from '../../../src/elf/edit.js';
import type { ElfFile, ElfSymbol } from '../../../src/elf/model.js';
import { parseElf } from '../../../src/elf/parse.js';
import { serializeElf } from '../../../src/elf/serialize.js';
import { compileFixture, elfWorkDir, linkRelocatable, manySectionsObject, readelf, readelfLayoutFree, xindexObject } from '../../helpers/elf-fixtures.js';
import { expectValidObject } from '../../helpers/elf-oracles.js';

const kernelLike = compileFixture('kernel-like.c');
const load = (file: string): ElfFile => parseElf(readFileSync(file), { file });
let n = 0;
function write(file: ElfFile, options = {}): string {
  const out = path.join(elfWorkDir(), `written-${n++}.o`);
  writeFileSync(out, serializeElf(file, options));
  return out;
}

/** Each relocation as (section, offset, type, target, addend): independent of symbol and section indices. */
function relocationFacts(file: ElfFile): string[] {
  return file.sections.flatMap((s) =>
    (s.relas ?? []).map((r) => `${s.name} ${r.offset} ${r.type} ${r.symbol.name || r.symbol.section?.name || ''} ${r.addend}`),
  );
}

function symbolFacts(file: ElfFile): string[] {
  return (findSymtab(file)?.symbols ?? []).map((s) => `${s.name}/${s.section?.name ?? s.shndx}/${s.value}/${s.size}/${s.bind}/${s.type}/${s.other}`).sort();
}

describe('serializeElf', () => {
  it('writes an unmodified object back byte for byte', () => {
    const original = readFileSync(kernelLike);
    expect(Buffer.compare(Buffer.from(serializeElf(parseElf(original))), original)).toBe(0);
  });

  it('round-trips an object with 66,000 sections (extended e_shnum, e_shstrndx and SHN_XINDEX) byte for byte', () => {
    const file = manySectionsObject();
    const original = readFileSync(file);
    const elf = parseElf(original);
    expect(elf.sections.length).toBeGreaterThan(0xff00);
    expect(elf.shstrtab?.name).toBe('.shstrtab');
    const f32900 = findSymtab(elf)?.symbols?.find((s) => s.name === 'f32900');
    expect(f32900?.section?.name).toBe('.text.f32900');
    expect(f32900?.section?.index).toBeGreaterThan(0xff00);
    expect(Buffer.compare(Buffer.from(serializeElf(elf)), original)).toBe(0);
  });

  it('keeps symbols given through SHT_SYMTAB_SHNDX (readelf sees the same file)', () => {
    const file = xindexObject();
    const elf = load(file);
    expect(readelf(['-SW'], file).stdout).toContain('SYMTAB SECTION INDICES');
    const symtab = findSymtab(elf);
    const raw = readFileSync(file);
    const viaXindex = (symtab?.symbols ?? []).filter((_s, i) => raw.readUInt16LE((symtab?.origin?.offset ?? 0) + i * 24 + 6) === 0xffff);
    expect(viaXindex.length).toBeGreaterThan(10);
    expect(viaXindex.every((s) => s.section !== null)).toBe(true);
    expect(findSymtab(elf)?.symbols?.find((s) => s.name === 'helper')?.section?.name).toBe('.text.helper');
    const out = write(elf);
    expect(readelf(['-a', '-W'], out).stdout).toBe(readelf(['-a', '-W'], file).stdout.replaceAll(file, out));
    expectValidObject(out);
  });

  it('lays a file out afresh that readelf reads the same (offsets aside) and ld -r accepts', () => {
    for (const file of [kernelLike, xindexObject()]) {
      const out = write(load(file), { freshLayout: true });
      expect(readelfLayoutFree(out)).toBe(readelfLayoutFree(file).replaceAll(file, out));
      expectValidObject(out);
    }
  });

  it('adds a section with a symbol and a relocation section', () => {
    const elf = load(kernelLike);
    const symtab = findSymtab(elf);
    const printk = symtab?.symbols?.find((s) => s.name === 'printk') as ElfSymbol;
    const code = new Uint8Array([0xe8, 0, 0, 0, 0, 0xc3]);
    const text = addSection(elf, { name: '.text.added', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 16, data: code }, { after: elf.sections.find((s) => s.name === '.rela.text.exported_function') });
    ensureSectionSymbol(elf, text);
    addSymbol(elf, { name: 'added_function', type: STT_FUNC, bind: STB_GLOBAL, section: text, size: code.length });
    addSymbol(elf, { name: 'added_local', type: STT_OBJECT, bind: STB_LOCAL, section: text, value: 5n, size: 1 });
    addRelaSection(elf, text, [{ offset: 1n, type: R_X86_64_PLT32, symbol: printk, addend: -4n }]);
    const out = write(elf);
    expectValidObject(out);
    const back = load(out);
    const added = back.sections.find((s) => s.name === '.text.added');
    expect(added?.data).toEqual(code);
    const rela = back.sections.find((s) => s.name === '.rela.text.added');
    expect(rela?.base).toBe(added);
    expect(rela?.relas?.[0]).toMatchObject({ offset: 1n, type: R_X86_64_PLT32, addend: -4n, symbol: { name: 'printk' } });
    // the new local went before the globals, and sh_info says where the globals start
    const syms = findSymtab(back)?.symbols ?? [];
    const firstGlobal = syms.findIndex((s, i) => i > 0 && s.bind !== STB_LOCAL);
    expect(syms.slice(firstGlobal).every((s) => s.bind !== STB_LOCAL)).toBe(true);
    expect(syms.findIndex((s) => s.name === 'added_local')).toBeLessThan(firstGlobal);
    expect(readelf(['-SW'], out).stdout).toMatch(new RegExp(`\\.symtab +SYMTAB +0{16} [0-9a-f]+ [0-9a-f]+ 18 +\\d+ +${firstGlobal} `));
  });

  it('drops a function section with its relocations, and what pointed into it', () => {
    const elf = load(kernelLike);
    const before = relocationFacts(elf);
    const text = elf.sections.find((s) => s.name === '.text.classify');
    if (!text) throw new Error('no .text.classify');
    const removed = removeSection(elf, text);
    expect(removed.sections.map((s) => s.name).sort()).toEqual(['.rela.text.classify', '.text.classify']);
    expect(removed.symbols.map((s) => s.name || s.section?.name).sort()).toEqual(['.text.classify', 'classify']);
    // the __mcount_loc entry, the jump table, and the caller's call went with it
    expect(new Set(removed.relas.map((r) => r.section.name))).toEqual(new Set(['.rela__mcount_loc', '.rela.rodata.classify', '.rela.text.exported_function']));
    const out = write(elf);
    expectValidObject(out);
    const back = load(out);
    expect(back.sections.some((s) => s.name.includes('.text.classify'))).toBe(false);
    expect(readelf(['-sW'], out).stdout).not.toMatch(/ classify$/m);
    const after = relocationFacts(back);
    expect(after.length).toBe(before.length - 10 - removed.relas.length);
  });

  it('drops a function section but keeps callers linking to the global as an undefined symbol', () => {
    const elf = load(kernelLike);
    const text = elf.sections.find((s) => s.name === '.text.classify');
    if (!text) throw new Error('no .text.classify');
    const removed = removeSection(elf, text, { keepReferences: true });
    expect(removed.symbols.map((s) => s.name || s.section?.name)).toEqual(['.text.classify']);
    expect(removed.undefined.map((s) => s.name)).toEqual(['classify']);
    const out = write(elf);
    expectValidObject(out);
    expect(readelf(['-sW'], out).stdout).toMatch(/NOTYPE +GLOBAL +DEFAULT +UND classify$/m);
    expect(readelf(['-rW'], out).stdout).toMatch(/R_X86_64_PLT32 +0{16} classify - 4/);
  });

  it('reorders symbols (locals after globals in the model) and remaps every relocation', () => {
    const elf = load(kernelLike);
    const facts = relocationFacts(elf);
    const symtab = findSymtab(elf);
    if (!symtab?.symbols) throw new Error('no symtab');
    const [nul, ...rest] = symtab.symbols;
    symtab.symbols = [nul as ElfSymbol, ...rest.reverse()];
    const out = write(elf);
    expectValidObject(out);
    const back = load(out);
    expect(relocationFacts(back)).toEqual(facts);
    expect(symbolFacts(back)).toEqual(symbolFacts(elf));
    const names = (findSymtab(back)?.symbols ?? []).map((s) => s.name);
    expect(names.indexOf('exported_function')).toBeLessThan(names.indexOf('classify'));
    renumber(elf);
    expect(symtab.symbols.map((s) => s.index)).toEqual(symtab.symbols.map((_s, i) => i));
  });

  it('rebuilds the string tables when a name changes', () => {
    const elf = load(kernelLike);
    const sym = findSymtab(elf)?.symbols?.find((s) => s.name === 'helper');
    const section = elf.sections.find((s) => s.name === '.text.helper');
    if (!sym || !section) throw new Error('fixture changed');
    sym.name = 'a_much_longer_name_for_the_helper_function';
    section.name = '.text.renamed_helper';
    const out = write(elf);
    expectValidObject(out);
    expect(readelf(['-sW'], out).stdout).toContain('a_much_longer_name_for_the_helper_function');
    expect(readelf(['-SW'], out).stdout).toContain('.text.renamed_helper');
    expect(readelf(['-rW'], out).stdout).toContain('.text.renamed_helper - 4');
  });

  it('drops a function from the 66,000-section object (fresh layout with extended numbering)', () => {
    const elf = load(manySectionsObject());
    const text = elf.sections.find((s) => s.name === '.text.f100');
    const caller = elf.sections.find((s) => s.name === '.rela.text.f99');
    if (!text || !caller) throw new Error('no f100');
    removeSection(elf, text);
    const out = write(elf);
    const back = load(out);
    expect(back.sections.length).toBe(elf.sections.length);
    expect(back.sections.find((s) => s.name === '.rela.text.f99')?.relas).toHaveLength(0);
    const sym = findSymtab(back)?.symbols?.find((s) => s.name === 'f32900');
    expect(sym?.section?.name).toBe('.text.f32900');
    const r = readelf(['-hSW'], out);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Number of section headers: +0 \(\d+\)/);
    expect(linkRelocatable(out).status).toBe(0);
  });

  it('refuses an inconsistent model with ELF_MODEL_INVALID', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        if (isRebootlessError(e)) return e.code;
        throw e;
      }
      return 'none';
    };
    const a = load(kernelLike);
    const stray: ElfSymbol = { index: 0, name: 'stray', value: 0n, size: 0, bind: STB_GLOBAL, type: 0, other: 0, section: null, shndx: 0 };
    a.sections.find((s) => s.name === '.rela.text.helper')?.relas?.push({ offset: 0n, type: 2, symbol: stray, addend: 0n });
    expect(code(() => serializeElf(a))).toBe('ELF_MODEL_INVALID');
    const b = load(kernelLike);
    b.sections = b.sections.filter((s) => s.name !== '.text.helper');
    expect(code(() => serializeElf(b))).toBe('ELF_MODEL_INVALID');
    const c = load(kernelLike);
    c.header.type = ET_EXEC;
    expect(code(() => serializeElf(c))).toBe('ELF_UNSUPPORTED');
  });
});
