import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findSymtab } from '../../../src/elf/edit.js';
import { parseElf } from '../../../src/elf/parse.js';
import { isRelocationSection } from '../../../src/elf/predicates.js';
import { readElfPartial, readSymbolTable } from '../../../src/elf/symtab.js';
import { openElfSymbols, readElfSymbols } from '../../../src/elf/files.js';
import { compileFixture, manySectionsObject } from '../../helpers/elf-fixtures.js';

/** A read callback over a buffer that records what was read. */
function recorder(bytes: Uint8Array) {
  const reads: [number, number][] = [];
  const read = (offset: number, length: number): Promise<Uint8Array> => {
    reads.push([offset, length]);
    return Promise.resolve(bytes.slice(offset, offset + length));
  };
  return { read, reads, total: () => reads.reduce((n, [, l]) => n + l, 0) };
}

describe('partial reader (vmlinux-style: header tables and symbol tables only)', () => {
  const object = compileFixture('kernel-like.c');
  const bytes = new Uint8Array(readFileSync(object));
  const full = parseElf(bytes, { file: object });

  it('reads only the ELF header, section headers, name table, symbol and string tables', async () => {
    const r = recorder(bytes);
    const part = await readSymbolTable(r.read, { file: object, size: bytes.length });
    const expected = ['.shstrtab', '.symtab', '.strtab'].map((n) => full.sections.find((s) => s.name === n)?.size ?? 0);
    expect(r.total()).toBe(64 + full.sections.length * 64 + expected.reduce((a, b) => a + b, 0));
    expect(part.sections.map((s) => s.name)).toEqual(full.sections.map((s) => s.name));
    const a = findSymtab(part)?.symbols ?? [];
    const b = findSymtab(full)?.symbols ?? [];
    expect(a.map((s) => [s.name, s.value, s.size, s.bind, s.type, s.section?.name])).toEqual(b.map((s) => [s.name, s.value, s.size, s.bind, s.type, s.section?.name]));
  });

  it('refuses to hand out contents it did not read', async () => {
    const part = await readSymbolTable(recorder(bytes).read, { file: object, size: bytes.length });
    const text = part.sections.find((s) => s.name === '.text.classify');
    expect(() => text?.data).toThrow(expect.objectContaining({ code: 'ELF_MODEL_INVALID' }) as Error);
    expect(part.sections.find((s) => s.name === '.rela.text.classify')?.relas).toBeUndefined();
  });

  it('loads relocation sections on request', async () => {
    const part = await readElfPartial(recorder(bytes).read, { file: object, size: bytes.length, include: (s) => isRelocationSection(s.type) });
    const relas = part.sections.find((s) => s.name === '.rela.text.classify')?.relas ?? [];
    expect(relas.map((r) => r.symbol.name || r.symbol.section?.name)).toEqual(
      (full.sections.find((s) => s.name === '.rela.text.classify')?.relas ?? []).map((r) => r.symbol.name || r.symbol.section?.name),
    );
  });

  it('reads extended section numbering without the section contents', async () => {
    const many = new Uint8Array(readFileSync(manySectionsObject()));
    const r = recorder(many);
    const part = await readSymbolTable(r.read, { file: 'many.o', size: many.length });
    expect(part.sections.length).toBeGreaterThan(0xff00);
    expect(findSymtab(part)?.symbols?.find((s) => s.name === 'f32900')?.section?.name).toBe('.text.f32900');
    const sizeOf = (name: string) => part.sections.find((s) => s.name === name)?.size ?? 0;
    const sh0 = 64; // e_shnum overflowed: section header 0 is read first for the real count
    expect(r.total()).toBe(64 + sh0 + part.sections.length * 64 + ['.shstrtab', '.symtab', '.strtab', '.symtab_shndx'].map(sizeOf).reduce((a, b) => a + b, 0));
  });

  it('reads from disk with positioned reads, and streams relocations in chunks', async () => {
    const part = await readElfSymbols(object);
    expect(findSymtab(part)?.symbols).toHaveLength(findSymtab(full)?.symbols?.length ?? -1);
    const open = await openElfSymbols(object);
    try {
      const rela = open.file.sections.find((s) => s.name === '.rela.text.classify');
      if (!rela) throw new Error('no rela');
      const chunks: number[] = [];
      const offsets: bigint[] = [];
      for await (const chunk of open.relocations(rela, 3)) {
        chunks.push(chunk.length);
        offsets.push(...chunk.map((r) => r.offset));
      }
      expect(chunks).toEqual([3, 3, 3, 1]);
      expect(offsets).toEqual((full.sections.find((s) => s.name === '.rela.text.classify')?.relas ?? []).map((r) => r.offset));
    } finally {
      await open.close();
    }
  });

  it('reports unreadable files as FILE_READ_FAILED', async () => {
    await expect(readElfSymbols('/nonexistent/vmlinux')).rejects.toMatchObject({ code: 'FILE_READ_FAILED' });
    await expect(readElfSymbols('/tmp')).rejects.toMatchObject({ code: 'FILE_READ_FAILED' });
  });
});
