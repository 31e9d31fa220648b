import { execFileSync } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { findSymtab } from '../src/elf/edit.js';
import type { ElfFile } from '../src/elf/model.js';
import { parseElf } from '../src/elf/parse.js';
import { serializeElf } from '../src/elf/serialize.js';
import { readSymbolTable } from '../src/elf/symtab.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import { formatBytes, formatDuration, silentProgress } from '../src/util/progress.js';

// Targets (issue 4): vmlinux symbol table in ≤ 1 s with memory bounded by what
// is read; parse + serialize throughput over a kernel directory's objects.

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
