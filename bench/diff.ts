import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffObjects, type DiffResult } from '../src/diff/index.js';
import { readElfFileSync } from '../src/elf/files.js';
import { parseElf } from '../src/elf/parse.js';
import { compileSource, workspaceCompiler } from '../src/kbuild/compile.js';
import { cacheRoot } from '../src/kernel/cache.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import { formatBytes, formatDuration, silentProgress } from '../src/util/progress.js';
import { KPATCH_UNIT_DIR, kpatchUnitPairs } from '../test/helpers/kpatch-unit.js';

// Issue 5: time and peak memory to diff the largest TU pair of fs/ — fs/namei.o
// against the same file with a one-line change, both compiled with kbuild's
// command for the unit (compile times reported apart). The diff runs in
// a child process of its own, so its peak RSS is the differ's and not the
// compiles' or the bench's. Figures only; nothing is asserted.

const SOURCE = 'fs/namei.c';
const OBJECT = 'fs/namei.o';
const ROUNDS = 5;
const SELF = fileURLToPath(import.meta.url);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

interface ChildReport {
  baselineRss: number;
  readMs: number;
  parseMs: number;
  diffMs: number[];
  maxRss: number;
  heapUsed: number;
  verdict: string;
  changed: string[];
  functions: number;
}

/** In the child: read, parse and diff ROUNDS times; print one JSON line. */
function measure(origPath: string, patchedPath: string): void {
  const baselineRss = process.memoryUsage().rss;
  let t = performance.now();
  const [ob, pb] = [readFileSync(origPath), readFileSync(patchedPath)];
  const readMs = performance.now() - t;
  t = performance.now();
  const orig = parseElf(ob, { file: origPath });
  const patched = parseElf(pb, { file: patchedPath });
  const parseMs = performance.now() - t;
  const diffMs: number[] = [];
  let r: DiffResult | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    // every round from freshly parsed models, so lazily loaded section data is counted each time
    const o = i === 0 ? orig : parseElf(ob, { file: origPath });
    const p = i === 0 ? patched : parseElf(pb, { file: patchedPath });
    t = performance.now();
    r = diffObjects(o, p);
    diffMs.push(performance.now() - t);
  }
  const report: ChildReport = {
    baselineRss,
    readMs,
    parseMs,
    diffMs,
    maxRss: process.resourceUsage().maxRSS * 1024,
    heapUsed: process.memoryUsage().heapUsed,
    verdict: r?.verdict ?? '',
    changed: (r?.functions ?? []).filter((f) => f.status !== 'same').map((f) => `${f.name} ${f.status}`),
    functions: r?.functions.length ?? 0,
  };
  console.log(JSON.stringify(report));
}

export async function benchDiff(): Promise<void> {
  const { workspace: ws } = await fetchRelease({ cacheRoot: cacheRoot(), progress: silentProgress });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-diff-'));
  try {
    const cc = workspaceCompiler(ws);
    let t = performance.now();
    const origPath = await compileSource(cc, SOURCE, path.join(tmp, 'orig'));
    console.log(`compile ${OBJECT} (orig, kbuild's command replayed): ${formatDuration(performance.now() - t)}`);

    const text = readFileSync(path.join(cc.tree, SOURCE), 'utf8');
    const marker = text.indexOf('int vfs_readlink(');
    const at = text.indexOf('return -EINVAL;', marker);
    if (marker < 0 || at < 0) throw new Error(`${SOURCE}: the line to change is not there`);
    t = performance.now();
    const patchedPath = await compileSource(cc, SOURCE, path.join(tmp, 'patched'), `${text.slice(0, at)}return -ENOLINK;${text.slice(at + 'return -EINVAL;'.length)}`);
    console.log(`compile ${OBJECT} (patched, one line changed in vfs_readlink): ${formatDuration(performance.now() - t)}`);
    console.log(`object sizes: orig ${formatBytes(statSync(origPath).size)}, patched ${formatBytes(statSync(patchedPath).size)}`);

    const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--measure', origPath, patchedPath], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const rep = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChildReport;
    const sorted = [...rep.diffMs].sort((a, b) => a - b);
    console.log(`read both objects: ${formatDuration(rep.readMs)}; parse both: ${formatDuration(rep.parseMs)}`);
    console.log(`diffObjects (${rep.functions} functions): first ${formatDuration(rep.diffMs[0] ?? 0)}, median of ${ROUNDS} ${formatDuration(sorted[Math.floor(ROUNDS / 2)] ?? 0)}, min ${formatDuration(sorted[0] ?? 0)}`);
    console.log(`peak RSS of the diff process: ${formatBytes(rep.maxRss)} (node alone before reading: ${formatBytes(rep.baselineRss)}; heap in use at the end: ${formatBytes(rep.heapUsed)})`);
    console.log(`verdict: ${rep.verdict}; not same: ${rep.changed.join(', ') || 'none'}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// Issue 14: kpatch's create-diff-object takes 1.87 s for its 55 unit object pairs
// (test/fixtures/kpatch-unit), 34 ms a pair. Here: every pair read, parsed and diffed
// in this process (a first pass, then WARM_PASSES more; a pair's figure is its median
// over those), and `rebootless diff` given all 55 pairs in one process, CLI_RUNS times
// (the installed command, dist/bin: npm run build first), with its start included.
const KPATCH_TOTAL_MS = 1870;
const KPATCH_PAIR_MS = 34;
const WARM_PASSES = 3;
const CLI_RUNS = 5;

export async function benchKpatchUnits(): Promise<void> {
  const pairs = kpatchUnitPairs();
  const at = (f: string): string => path.join(KPATCH_UNIT_DIR, f);
  // the command first, from a parent that has done nothing heavy yet (its GC and compiler threads idle)
  const main = path.resolve('dist/bin/rebootless.js');
  const args = [main, 'diff', ...pairs.flatMap((p) => [at(p.orig), at(p.patched)])];
  const runs: number[] = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    runs.push(performance.now() - t);
    if (r.status !== 2) throw new Error(`rebootless diff over the kpatch pairs: exit ${r.status} (2 expected: some pairs are unpatchable)\n${r.stderr}`);
  }
  const cliLine = `  rebootless diff with all ${pairs.length} pairs, one process (start included): median ${formatDuration(median(runs))} of ${CLI_RUNS}, min ${formatDuration(Math.min(...runs))}  [kpatch ${formatDuration(KPATCH_TOTAL_MS)}] (load average ${loadAverage()})`;
  // per pair: its time in the first pass, and in each later one
  const first: number[] = [];
  const later = pairs.map((): number[] => []);
  const passes: number[] = [];
  for (let pass = 0; pass <= WARM_PASSES; pass++) {
    const t0 = performance.now();
    for (const [k, p] of pairs.entries()) {
      const t = performance.now();
      diffObjects(readElfFileSync(at(p.orig)), readElfFileSync(at(p.patched)));
      if (pass === 0) first.push(performance.now() - t);
      else later[k]!.push(performance.now() - t);
    }
    passes.push(performance.now() - t0);
  }
  const warm = later.map(median);
  const slowest = [...warm.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, ms]) => `${pairs[k]!.name} ${formatDuration(ms)}`);
  console.log(`kpatch unit pairs (${pairs.length}), read + parse + diff in one process (load average ${loadAverage()}):`);
  console.log(`  first pass ${formatDuration(passes[0]!)}, later passes median ${formatDuration(median(passes.slice(1)))}  [kpatch ${formatDuration(KPATCH_TOTAL_MS)}]`);
  console.log(`  per pair: median ${formatDuration(median(first))} in the first pass, ${formatDuration(median(warm))} later  [kpatch ${KPATCH_PAIR_MS}ms]; max ${formatDuration(Math.max(...warm))} later (slowest: ${slowest.join(', ')})`);
  console.log(cliLine);
}

const loadAverage = (): string => os.loadavg()[0]!.toFixed(1);

if (process.argv[1] === SELF) {
  const i = process.argv.indexOf('--measure');
  if (i > 0) measure(process.argv[i + 1] as string, process.argv[i + 2] as string);
  else await benchDiff();
}
