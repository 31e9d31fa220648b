import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ElfFile } from '../../src/elf/model.js';
import { parseElf } from '../../src/elf/parse.js';
import { REPO } from './run-cli.js';

// Fixture pairs of the differ, compiled with kernel-like flags. Both sides are
// compiled from the same path in the same directory (as kbuild compiles a file
// twice), so __FILE__ and the FILE symbol agree.

export const FIXTURES = path.join(REPO, 'test/fixtures/diff');
export const CFLAGS = ['-O2', '-ffunction-sections', '-fdata-sections', '-pg', '-mfentry', '-mrecord-mcount', '-fno-pic', '-mcmodel=kernel', '-fno-asynchronous-unwind-tables'];

export interface Pair {
  origPath: string;
  patchedPath: string;
  orig: ElfFile;
  patched: ElfFile;
}

/** A compiler of fixture pairs into `work`, remembering what it compiled. */
export function pairCompiler(prefix: string): { compilePair: (name: string, extra?: string[]) => Pair; work: string } {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const compiled = new Map<string, Pair>();
  const compilePair = (name: string, extra: string[] = []): Pair => {
    const key = [name, ...extra].join(' ');
    const done = compiled.get(key);
    if (done) return done;
    const dir = path.join(work, `${name}${compiled.size}`);
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    const paths = { orig: path.join(dir, 'orig.o'), patched: path.join(dir, 'patched.o') };
    for (const side of ['orig', 'patched'] as const) {
      copyFileSync(path.join(FIXTURES, name, `${side}.c`), path.join(dir, 'src', `${name}.c`));
      execFileSync('gcc', ['-c', ...CFLAGS, ...extra, '-I', FIXTURES, `${name}.c`, '-o', `${name}.o`], { cwd: path.join(dir, 'src'), stdio: 'pipe' });
      renameSync(path.join(dir, 'src', `${name}.o`), paths[side]);
    }
    const pair = {
      origPath: paths.orig,
      patchedPath: paths.patched,
      orig: parseElf(readFileSync(paths.orig), { file: paths.orig }),
      patched: parseElf(readFileSync(paths.patched), { file: paths.patched }),
    };
    compiled.set(key, pair);
    return pair;
  };
  return { compilePair, work };
}
