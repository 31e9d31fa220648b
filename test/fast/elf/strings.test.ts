import { describe, expect, it } from 'vitest';
import { parseModinfo, serializeModinfo } from '../../../src/elf/modinfo.js';
import { parseNotes, serializeNotes } from '../../../src/elf/notes.js';
import { buildStringTable, hasNameAt, StringTable } from '../../../src/elf/strtab.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('string tables', () => {
  it('builds a table that shares tails and finds every name', () => {
    const names = ['.text', '.rela.text', 'text', '', '.data', '.rela.data', 'ünïcode', '.text'];
    const { data, offsetOf } = buildStringTable(names);
    expect(data[0]).toBe(0);
    for (const n of names) expect(hasNameAt(data, offsetOf.get(n) ?? -1, n), n).toBe(true);
    // ".text" and "text" live inside ".rela.text"
    expect(data.length).toBe(1 + '.rela.text'.length + 1 + '.rela.data'.length + 1 + enc('ünïcode').length + 1);
  });

  it('reads names and refuses unterminated or out-of-range ones', () => {
    const t = new StringTable('x.o', '.strtab', enc('\0abc\0def'));
    expect(t.name(1, 'symbol 1')).toBe('abc');
    expect(t.name(2, 'symbol 1')).toBe('bc');
    expect(t.name(4, 'symbol 1')).toBe('');
    expect(() => t.name(5, 'symbol 2')).toThrow(expect.objectContaining({ code: 'ELF_MALFORMED' }) as Error);
    expect(() => t.name(50, 'symbol 3')).toThrow(expect.objectContaining({ code: 'ELF_OUT_OF_RANGE' }) as Error);
    expect(new StringTable('x.o', '.strtab', new Uint8Array(0)).name(0, 'symbol 0')).toBe('');
  });

  it('reads names from a hostile table (many lookups into one long unterminated run), before and after indexing it', () => {
    // The table indexes its NULs after a few dozen lookups; `npm run bench -- 'elf strings'` times this workload.
    const data = new Uint8Array(4 * 1024 * 1024).fill(0x41);
    data[data.length - 1] = 0;
    const t = new StringTable('x.o', '.strtab', data);
    let total = 0;
    for (let i = 0; i < 200_000; i++) total += t.name(data.length - 2 - (i % 1000), 'symbol').length;
    // the name at length-2-k is k+1 bytes long: 200 rounds of 1 + 2 + … + 1000
    expect(total).toBe(200 * 500_500);
    expect(t.name(1, 'symbol')).toBe('A'.repeat(data.length - 2));
  });
});

describe('.modinfo', () => {
  it('parses key=value strings with padding and repeated keys, and writes them back', () => {
    const data = enc('license=GPL\0\0\0alias=fs-binfmt_misc\0alias=other\0vermagic=6.1.0 SMP mod_unload \0');
    const entries = parseModinfo(data);
    expect(entries).toEqual([
      { key: 'license', value: 'GPL' },
      { key: 'alias', value: 'fs-binfmt_misc' },
      { key: 'alias', value: 'other' },
      { key: 'vermagic', value: '6.1.0 SMP mod_unload ' },
    ]);
    expect(parseModinfo(serializeModinfo(entries))).toEqual(entries);
    expect(() => parseModinfo(enc('license=GPL'))).toThrow(expect.objectContaining({ code: 'ELF_MALFORMED' }) as Error);
    expect(() => parseModinfo(enc('nonsense\0'))).toThrow(expect.objectContaining({ code: 'ELF_MALFORMED' }) as Error);
  });
});

describe('notes', () => {
  it('round-trips notes with 4- and 8-byte padding and refuses overruns', () => {
    const notes = [
      { name: 'GNU', type: 3, desc: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]) },
      { name: 'Linux', type: 0x100, desc: new Uint8Array([1, 2, 3]) },
    ];
    for (const align of [4, 8]) {
      const bytes = serializeNotes(notes, align);
      expect(bytes.length % align).toBe(0);
      const back = parseNotes(bytes, { align });
      expect(back.map((n) => [n.name, n.type, [...n.desc]])).toEqual(notes.map((n) => [n.name, n.type, [...n.desc]]));
      const cut = bytes.subarray(0, bytes.length - 8);
      expect(() => parseNotes(cut, { align, file: 'x.o', section: '.note' })).toThrow(expect.objectContaining({ code: 'ELF_MALFORMED' }) as Error);
    }
  });
});
