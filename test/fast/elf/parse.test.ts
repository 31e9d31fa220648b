import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRebootlessError } from '../../../src/errors/index.js';
import {
  ET_REL,
  GRP_COMDAT,
  R_X86_64_64,
  R_X86_64_PLT32,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_GROUP,
  SHN_UNDEF,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_RELA,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_SECTION,
} from '../../../src/elf/constants.js';
import { findSymtab } from '../../../src/elf/edit.js';
import { modinfoOf, modinfoValue } from '../../../src/elf/modinfo.js';
import { allNotes } from '../../../src/elf/notes.js';
import { parseElf } from '../../../src/elf/parse.js';
import { compileFixture, readelf } from '../../helpers/elf-fixtures.js';

const object = compileFixture('kernel-like.c');
const bytes = new Uint8Array(readFileSync(object));
const elf = parseElf(bytes, { file: object });
const byName = (name: string) => elf.sections.find((s) => s.name === name);
const symbols = findSymtab(elf)?.symbols ?? [];
const sym = (name: string) => symbols.find((s) => s.name === name);

function failure(data: Uint8Array): { code: string; location: unknown } {
  try {
    parseElf(data, { file: 'bad.o' });
  } catch (e) {
    if (isRebootlessError(e)) return { code: e.code, location: e.location };
    throw e;
  }
  throw new Error('parsed');
}

function patched(edit: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(bytes);
  edit(new DataView(b.buffer, b.byteOffset, b.byteLength), b);
  return b;
}

describe('parseElf on a kernel-like object', () => {
  it('reads the header and every section header as readelf does', () => {
    expect(elf.header.type).toBe(ET_REL);
    const rows = readelf(['-SW'], object).stdout.split('\n').filter((l) => /^\s+\[\s*\d+\]/.test(l));
    expect(elf.sections).toHaveLength(rows.length);
    rows.forEach((row, i) => {
      const s = elf.sections[i];
      expect(row).toContain(`[${String(i).padStart(2)}] ${s?.name ?? ''}`);
      expect(s?.index).toBe(i);
    });
    expect(elf.shstrtab?.name).toBe('.shstrtab');
  });

  it('links sections: relocation section ↔ base, symbol table → string table, bss sizes', () => {
    const rela = byName('.rela.text.classify');
    expect(rela?.type).toBe(SHT_RELA);
    expect(rela?.base).toBe(byName('.text.classify'));
    expect(rela?.link).toBe(findSymtab(elf));
    expect(findSymtab(elf)?.link).toBe(byName('.strtab'));
    const bss = byName('.bss.static_counter');
    expect(bss?.type).toBe(SHT_NOBITS);
    expect(bss?.size).toBe(4);
    expect(bss?.data).toHaveLength(0);
    const text = byName('.text.classify');
    expect(text && (text.flags & (SHF_ALLOC | SHF_EXECINSTR))).toBe(SHF_ALLOC | SHF_EXECINSTR);
    expect(text?.data).toEqual(bytes.subarray(text?.origin?.offset, (text?.origin?.offset ?? 0) + (text?.size ?? 0)));
  });

  it('reads symbols with binding, type, section and the null symbol first', () => {
    expect(symbols[0]).toMatchObject({ name: '', section: null, shndx: SHN_UNDEF });
    expect(sym('kernel-like.c')).toMatchObject({ type: STT_FILE, bind: STB_LOCAL });
    expect(sym('helper')).toMatchObject({ type: STT_FUNC, bind: STB_LOCAL, section: byName('.text.helper') });
    expect(sym('classify')).toMatchObject({ type: STT_FUNC, bind: STB_GLOBAL, section: byName('.text.classify'), value: 0n });
    expect(sym('weak_hook')?.bind).toBe(STB_WEAK);
    expect(sym('printk')).toMatchObject({ section: null, shndx: SHN_UNDEF });
    expect(symbols.filter((s) => s.type === STT_SECTION).every((s) => s.section !== null)).toBe(true);
    const count = Number(/contains (\d+) entries/.exec(readelf(['-sW'], object).stdout)?.[1]);
    expect(symbols).toHaveLength(count);
  });

  it('reads relocations with their symbols and signed addends', () => {
    const relas = byName('.rela.text.helper')?.relas ?? [];
    expect(relas[0]).toMatchObject({ offset: 1n, type: R_X86_64_PLT32, symbol: sym('__fentry__'), addend: -4n });
    const mcount = byName('.rela__mcount_loc')?.relas ?? [];
    expect(mcount.map((r) => r.type)).toEqual(mcount.map(() => R_X86_64_64));
    expect(mcount.map((r) => r.symbol.section?.name)).toEqual(['.text.helper', '.text.classify', '.text.weak_hook', '.text.exported_function']);
  });

  it('reads the COMDAT group with its signature and members', () => {
    const group = elf.sections.find((s) => s.type === SHT_GROUP);
    expect(group?.group?.flags).toBe(GRP_COMDAT);
    expect(group?.group?.signature.name).toBe('comdat_helper');
    expect(group?.group?.members.map((m) => m.name)).toEqual(['.text.comdat_helper', '.data.comdat_helper', '.rela.data.comdat_helper']);
    expect(group?.group?.members.every((m) => (m.flags & SHF_GROUP) !== 0n)).toBe(true);
  });

  it('reads .modinfo and notes', () => {
    const info = modinfoOf(elf) ?? [];
    expect(modinfoValue(info, 'license')).toBe('GPL');
    expect(modinfoValue(info, 'livepatch')).toBe('Y');
    expect(info.map((e) => e.key).sort()).toEqual(['description', 'license', 'livepatch']);
    const notes = allNotes(elf);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.note).toMatchObject({ name: 'Linux', type: 0x100 });
    expect([...(notes[0]?.note.desc ?? [])]).toEqual([0x78, 0x56, 0x34, 0x12]);
  });
});

describe('parseElf refuses bad input with a typed error', () => {
  it('not ELF, wrong class, byte order, machine or type', () => {
    expect(failure(new TextEncoder().encode('#!/bin/sh\necho hi\n')).code).toBe('ELF_NOT_ELF');
    expect(failure(new Uint8Array(0)).code).toBe('ELF_NOT_ELF');
    expect(failure(patched((_v, b) => (b[4] = 1))).code).toBe('ELF_UNSUPPORTED');
    expect(failure(patched((_v, b) => (b[5] = 2))).code).toBe('ELF_UNSUPPORTED');
    expect(failure(patched((v) => v.setUint16(18, 3, true))).code).toBe('ELF_UNSUPPORTED');
    expect(failure(patched((v) => v.setUint16(16, 4, true))).code).toBe('ELF_UNSUPPORTED');
  });

  it('truncation anywhere', () => {
    expect(failure(bytes.subarray(0, 40)).code).toBe('ELF_TRUNCATED');
    expect(failure(bytes.subarray(0, bytes.length - 1)).code).toBe('ELF_TRUNCATED');
    const text = byName('.text.classify');
    const cut = failure(patched((v) => v.setBigUint64(Number(elf.origin?.shoff) + (text?.index ?? 0) * 64 + 32, BigInt(bytes.length), true)));
    expect(cut.code).toBe('ELF_TRUNCATED');
  });

  it('indices and offsets out of range, with the location', () => {
    const shoff = Number(elf.origin?.shoff);
    const rela = byName('.rela.text.helper');
    const bad = failure(patched((v) => v.setUint32(shoff + (rela?.index ?? 0) * 64 + 44, 9999, true)));
    expect(bad).toMatchObject({ code: 'ELF_OUT_OF_RANGE', location: { file: 'bad.o', section: '.rela.text.helper' } });
    const symtab = findSymtab(elf);
    const sym = failure(patched((v) => v.setUint16((symtab?.origin?.offset ?? 0) + 3 * 24 + 6, 0xfe00, true)));
    expect(sym).toMatchObject({ code: 'ELF_OUT_OF_RANGE', location: { section: '.symtab', offset: (symtab?.origin?.offset ?? 0) + 3 * 24 + 6 } });
    const relOff = rela?.origin?.offset ?? 0;
    expect(failure(patched((v) => v.setUint32(relOff + 12, 100000, true))).code).toBe('ELF_OUT_OF_RANGE');
  });

  it('overlapping sections and absurd sizes', () => {
    const shoff = Number(elf.origin?.shoff);
    const a = byName('.text.classify');
    const b = byName('.text.helper');
    const overlap = failure(patched((v) => v.setBigUint64(shoff + (a?.index ?? 0) * 64 + 24, BigInt(b?.origin?.offset ?? 0), true)));
    expect(overlap.code).toBe('ELF_OVERLAP');
    const bss = byName('.bss.static_counter');
    expect(failure(patched((v) => v.setBigUint64(shoff + (bss?.index ?? 0) * 64 + 32, 2n ** 62n, true))).code).toBe('ELF_TOO_LARGE');
    expect(failure(patched((v) => v.setUint16(60, 0xfff0, true))).code).toBe('ELF_TRUNCATED');
  });
});
