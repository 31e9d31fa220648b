import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { decodeInstructions } from '../../src/arch/x86_64/instructions.js';
import { SHT_PROGBITS, STT_FILE, STT_SECTION } from '../../src/elf/constants.js';
import { findSymtab } from '../../src/elf/edit.js';
import type { ElfFile, ElfSection } from '../../src/elf/model.js';
import { parseElf } from '../../src/elf/parse.js';
import { isTextSection } from '../../src/elf/predicates.js';
import { elfCli } from './elf-cli.js';
import { linkRelocatable, normalizeWhitespace, objdumpBoundaries, readelf } from './elf-fixtures.js';

// Assertions against the binutils oracles, shared by the fast and slow tiers.

/** readelf -a accepts the file without a word on stderr, and ld -r links it. */
export function expectValidObject(file: string): void {
  const r = readelf(['-a', '-W'], file);
  expect(r.stderr, `readelf -a ${file}`).toBe('');
  expect(r.status).toBe(0);
  const ld = linkRelocatable(file);
  expect(ld.stderr, `ld -r ${file}`).toBe('');
  expect(ld.status).toBe(0);
}

const VIEWS: [string, string][] = [
  ['--sections', '-SW'],
  ['--symbols', '-sW'],
  ['--relocs', '-rW'],
];

/** `rebootless elf dump` prints what readelf prints, whitespace aside. */
export async function expectDumpLikeReadelf(file: string, only?: string): Promise<void> {
  for (const [ours, theirs] of VIEWS) {
    if (only && ours !== only) continue;
    const r = await elfCli(['elf', 'dump', file, ours]);
    expect(r.code, r.stderr).toBe(0);
    expect(normalizeWhitespace(r.stdout), `${ours} of ${file}`).toBe(normalizeWhitespace(readelf([theirs], file).stdout));
  }
}

/** Where objdump restarts decoding: every symbol in the section. */
function symbolStarts(elf: ElfFile, section: ElfSection): number[] {
  return (findSymtab(elf)?.symbols ?? []).filter((s) => s.section === section && s.type !== STT_SECTION && s.type !== STT_FILE).map((s) => Number(s.value));
}

/** Instruction boundaries of every text section agree with objdump -d; returns how many instructions were checked. */
export function expectBoundariesLikeObjdump(file: string): number {
  const elf = parseElf(readFileSync(file), { file });
  const theirs = objdumpBoundaries(file);
  let checked = 0;
  for (const s of elf.sections) {
    if (!isTextSection(s) || s.size === 0 || s.type !== SHT_PROGBITS) continue;
    const ours = decodeInstructions(s.data, { starts: symbolStarts(elf, s) });
    expect(ours.map((i) => i.offset), `${file} ${s.name}`).toEqual(theirs.get(s.name));
    expect(ours.every((i) => !i.invalid && i.text !== ''), `${file} ${s.name} decodes cleanly`).toBe(true);
    checked += ours.length;
  }
  return checked;
}
