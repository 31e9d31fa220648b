import { execFileSync } from 'node:child_process';
import { promises as fsp, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { findSymtab } from '../src/elf/edit.js';
import type { ElfFile } from '../src/elf/model.js';
import { parseElf } from '../src/elf/parse.js';
import { serializeElf } from '../src/elf/serialize.js';
import { StringTable } from '../src/elf/strtab.js';
import { readSymbolTable } from '../src/elf/symtab.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import { formatBytes, formatDuration, silentProgress } from '../src/util/progress.js';
import { compileFixture, elfWorkDir, xindexObject } from '../test/helpers/elf-fixtures.js';
import { fuzzElf } from '../test/helpers/elf-fuzz.js';

// Targets (issue 4): vmlinux symbol table in ≤ 1 s with memory bounded by what
// is read; parse + serialize throughput over a kernel directory's objects.
// The hostile string table and the fuzz run are the fast tests' workloads, timed here
// rather than asserted there.

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function benchElf(): Promise<void> {
  const { workspace: ws } = await fetchRelease({ cacheRoot: process.env.REBOOTLESS_CACHE ?? path.resolve('.rebootless-test-cache'), progress: silentProgress });

  // vmlinux: header tables + .symtab + .strtab through positioned reads.
  const times: number[] = [];
  let bytesRead = 0;
  let last: ElfFile | undefined;
  const memory = (): number => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  global.gc?.();
  const before = memory();
  for (let i = 0; i < 5; i++) {
    last = undefined;
    const t0 = performance.now();
    const fh = await fsp.open(ws.vmlinux, 'r');
    bytesRead = 0;
    try {
      const elf = await readSymbolTable(
        async (offset, length) => {
          bytesRead += length;
          const buf = new Uint8Array(length);
          await fh.read(buf, 0, length, offset);
          return buf;
        },
        { file: ws.vmlinux, size: (await fh.stat()).size },
      );
      times.push(performance.now() - t0);
      last = elf;
    } finally {
      await fh.close();
    }
  }
  const size = (await fsp.stat(ws.vmlinux)).size;
  global.gc?.();
  // `last` is still referenced here, so the model counts in the measurement
  const retained = global.gc ? `the model holds ${formatBytes(Math.max(0, memory() - before))}` : 'run node with --expose-gc to see the memory the model holds';
  const symbols = last ? (findSymtab(last)?.symbols?.length ?? 0) : 0;
  console.log(`vmlinux symbol table (${symbols} symbols): ${formatDuration(median(times))} median of 5  [target ≤ 1s]`);
  console.log(`  read ${formatBytes(bytesRead)} of ${formatBytes(size)}; ${retained}`);

  // parse + serialize over every module of one kernel directory, and over all of them.
  for (const dir of [path.join(ws.modulesDir, 'kernel/fs'), ws.modulesDir]) {
    const files = execFileSync('find', [dir, '-name', '*.ko'], { encoding: 'utf8' }).trim().split('\n');
    const data = files.map((f) => readFileSync(f));
    const total = data.reduce((n, b) => n + b.length, 0);
    let parseMs = 0;
    let writeMs = 0;
    for (const bytes of data) {
      const t0 = performance.now();
      const elf = parseElf(bytes);
      const t1 = performance.now();
      serializeElf(elf);
      writeMs += performance.now() - t1;
      parseMs += t1 - t0;
    }
    const mbps = (ms: number): string => `${(total / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s`;
    console.log(`parse + serialize ${files.length} modules under ${path.relative(ws.modulesDir, dir) || 'the release'} (${formatBytes(total)}): parse ${formatDuration(parseMs)} (${mbps(parseMs)}), serialize ${formatDuration(writeMs)} (${mbps(writeMs)})`);
  }
}

/** test/fast/elf/strings.test.ts's hostile table: many lookups into one long unterminated run. */
export function benchStringTable(): Promise<void> {
  const data = new Uint8Array(4 * 1024 * 1024).fill(0x41);
  data[data.length - 1] = 0;
  const lookups = 200_000;
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const t = new StringTable('x.o', '.strtab', data);
    const t0 = performance.now();
    for (let i = 0; i < lookups; i++) t.name(data.length - 2 - (i % 1000), 'symbol');
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  console.log(`hostile string table (${formatBytes(data.length)} unterminated run, ${lookups} lookups): ${formatDuration(ms)} median of 5 (${Math.round(lookups / (ms / 1000))} lookups/s)`);
  return Promise.resolve();
}

/** test/fast/elf/fuzz.test.ts's run: throughput, and the slowest case (a hang would show here). */
export async function benchElfFuzz(): Promise<void> {
  const cases = Number(process.env.REBOOTLESS_FUZZ_CASES ?? 12_000);
  try {
    const seeds = [
      { name: 'kernel-like.o', bytes: new Uint8Array(readFileSync(compileFixture('kernel-like.c'))) },
      { name: 'xindex.o', bytes: new Uint8Array(readFileSync(xindexObject())) },
      { name: 'kernel-like-O0.o', bytes: new Uint8Array(readFileSync(compileFixture('kernel-like.c', ['-O0']))) },
    ];
    const t0 = performance.now();
    const report = await fuzzElf(seeds, { cases, seed: 0x5eed, hangMs: Number.POSITIVE_INFINITY });
    const ms = performance.now() - t0;
    console.log(`ELF fuzz (${report.cases} mutated objects): ${formatDuration(ms)} (${Math.round(report.cases / (ms / 1000))} cases/s), slowest case ${formatDuration(report.slowestMs)}`);
    const refused = Object.values(report.codes).reduce((n, c) => n + c, 0);
    console.log(`  ${report.written} parsed and written, ${refused} refused with an ELF error, ${report.findings.length} findings`);
  } finally {
    rmSync(elfWorkDir(), { recursive: true, force: true });
  }
}
