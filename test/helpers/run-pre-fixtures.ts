import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DiffResult, FunctionDiff } from '../../src/diff/types.js';
import { findSymtab, parseElf, type ElfFile } from '../../src/elf/index.js';
import { linkedImage, type LinkedImage } from '../../src/klp/run-pre/index.js';
import { KERNEL_CFLAGS, elfWorkDir } from './elf-fixtures.js';
import { REPO } from './run-cli.js';

// run-pre's inputs built at test time: test/fixtures/run-pre/unit.c compiled
// as two units into a miniature vmlinux (linked at kernel addresses) and into
// a module (ld -r), and compiled again as a build would compile the original.

const DIR = path.join(REPO, 'test/fixtures/run-pre');
let counter = 0;

/** A build compiles with a section per function and object; kbuild built the release without (calls within a unit resolved by the assembler). */
function compile(file: string, defines: string[], as: 'build' | 'release' = 'build'): string {
  const out = path.join(elfWorkDir(), `run-pre-${counter++}.o`);
  const flags = as === 'build' ? KERNEL_CFLAGS : KERNEL_CFLAGS.filter((f) => f !== '-ffunction-sections' && f !== '-fdata-sections');
  execFileSync('gcc', ['-c', ...flags, ...defines.map((d) => `-D${d}`), path.join(DIR, file), '-o', out], { stdio: 'pipe' });
  return out;
}

const read = (file: string): ElfFile => parseElf(readFileSync(file), { file });

/** sites.c: a function with an ftrace call and a two-instruction alternative. */
export function compiledSites(): ElfFile {
  return read(compile('sites.c', []));
}

/** unit.c as a build compiles the original (UNIT=1 or 2, plus drift). */
export function compiledUnit(unit: 1 | 2, defines: string[] = []): ElfFile {
  return read(compile('unit.c', [`UNIT=${unit}`, ...defines]));
}

let linked: { vmlinux: ElfFile; module: ElfFile } | undefined;

/** The miniature release: a vmlinux and a module, each holding both units. */
export function release(): { vmlinux: ElfFile; module: ElfFile } {
  if (linked) return linked;
  const units = [compile('unit.c', ['UNIT=1'], 'release'), compile('unit.c', ['UNIT=2'], 'release')];
  const exe = path.join(elfWorkDir(), 'run-pre-vmlinux');
  const ko = path.join(elfWorkDir(), 'run-pre-module.ko');
  execFileSync('ld', ['-o', exe, '-e', '0', '-Ttext=0xffffffff81000000', ...units, compile('kernel.c', [], 'release')], { stdio: 'pipe' });
  execFileSync('ld', ['-r', '-o', ko, ...units], { stdio: 'pipe' });
  return (linked = { vmlinux: read(exe), module: read(ko) });
}

export function imageOf(vmlinux: ElfFile): LinkedImage {
  return linkedImage(findSymtab(vmlinux)?.symbols ?? [], vmlinux.sections, (s, offset, length) => Promise.resolve(s.data.subarray(offset, offset + length)));
}

/** A diff that replaces `names` (in an object compared with itself: run-pre reads only which functions the patch includes). */
export function replacing(file: ElfFile, names: string[]): DiffResult {
  const functions: FunctionDiff[] = names.map((name) => ({ name, status: 'changed', section: `.text.${name}`, include: 'patch', hasFentry: true, local: name === 'helper' }));
  return { file: file.file, verdict: 'patchable', functions, data: [], refusals: [], specialEntries: {}, ignoredSections: [], callbacks: [], states: [], warnings: [] };
}
