import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFixture, elfWorkDir, manySectionsObject, normalizeWhitespace, readelf, xindexObject, zooObject } from '../../helpers/elf-fixtures.js';
import { elfCli } from '../../helpers/elf-cli.js';
import { expectDumpLikeReadelf } from '../../helpers/elf-oracles.js';

describe('rebootless elf dump', () => {
  it('prints what readelf -SW, -sW and -rW print (whitespace aside)', async () => {
    await expectDumpLikeReadelf(compileFixture('kernel-like.c'));
    await expectDumpLikeReadelf(xindexObject());
  });

  it('names every section type, flag, symbol type, binding, visibility, reserved index and relocation type as readelf does', async () => {
    await expectDumpLikeReadelf(zooObject());
  });

  it('handles extended section numbering', async () => {
    await expectDumpLikeReadelf(manySectionsObject(), '--sections');
  });

  it('prints all three views by default, and JSON with --json', async () => {
    const file = compileFixture('kernel-like.c');
    const all = await elfCli(['elf', 'dump', file]);
    expect(normalizeWhitespace(all.stdout)).toBe(normalizeWhitespace(['-SW', '-sW', '-rW'].map((a) => readelf([a], file).stdout).join('\n')));
    const j = await elfCli(['elf', 'dump', file, '--json']);
    const json = JSON.parse(j.stdout) as {
      sections: { name: string; type: string; flags: string }[];
      symbols: { table: string; entries: { name: string; bind: string; section: number | string }[] }[];
      relocations: { section: string; base: string; entries: { type: string; symbol: string; addend: string }[] }[];
    };
    expect(json.sections.find((s) => s.name === '.text.classify')).toMatchObject({ type: 'PROGBITS', flags: 'AX' });
    expect(json.symbols[0]?.entries.find((s) => s.name === 'printk')).toMatchObject({ bind: 'GLOBAL', section: 'UND' });
    expect(json.relocations.find((r) => r.section === '.rela.text.helper')).toMatchObject({
      base: '.text.helper',
      entries: expect.arrayContaining([{ offset: '0x1', type: 'R_X86_64_PLT32', symbol: '__fentry__', symbolIndex: expect.any(Number) as number, addend: '-4' }]) as unknown,
    });
    const only = JSON.parse((await elfCli(['elf', 'dump', file, '--symbols', '--json'])).stdout) as Record<string, unknown>;
    expect(Object.keys(only).sort()).toEqual(['file', 'symbols', 'type']);
  });

  it('explains bad input with a code, the file and a hint; exits 1', async () => {
    const r = await elfCli(['elf', 'dump', path.resolve('package.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/package\.json: not an ELF file/);
    expect(r.stderr).toMatch(/hint: /);
    const j = await elfCli(['elf', 'dump', '/nonexistent.o', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: 'FILE_READ_FAILED', data: { path: '/nonexistent.o' } } });
    expect(r.stdout).toBe('');
  });

  it('has --help on every command', async () => {
    for (const args of [['elf', '--help'], ['elf', 'dump', '--help'], ['elf', 'rewrite', '--help']]) {
      const r = await elfCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: rebootless elf/);
    }
  });
});

describe('rebootless elf rewrite', () => {
  it('writes an unmodified object back byte for byte, or laid out afresh', async () => {
    const file = compileFixture('kernel-like.c');
    const out = path.join(elfWorkDir(), 'rewritten.o');
    const r = await elfCli(['elf', 'rewrite', file, out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ identical: true });
    expect(Buffer.compare(readFileSync(out), readFileSync(file))).toBe(0);
    const fresh = await elfCli(['elf', 'rewrite', file, out, '--relayout']);
    expect(fresh.stdout).toMatch(/rewritten\.o: \d+ bytes, \d+ sections, (byte-identical to|differs from) /);
    expect(readelf(['-a', '-W'], out).stderr).toBe('');
  });

  it('refuses what it cannot write', async () => {
    const r = await elfCli(['elf', 'rewrite', compileFixture('kernel-like.c'), '/nonexistent-dir/x.o']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write \/nonexistent-dir\/x\.o/);
  });
});
