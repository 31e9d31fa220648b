import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../src/kernel/cache.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import { headerUsers } from '../src/kernel/header-users.js';
import type { KernelWorkspace } from '../src/kernel/manifest.js';
import type { BuildReport } from '../src/pipeline/types.js';
import { formatDuration, silentProgress } from '../src/util/progress.js';

// Issue 16: a header fix as a whole `rebootless build` process (dist/bin)
// on the default release: for a header used by about ten units and one used
// by about two thousand, how many of vmlinux's units use the header (their
// line tables name it), how many sources the change's names reach, how
// many built units were compiled and how many changed, the search's time
// and the build's wall time, first (originals compiled) and again (from
// the build cache). Figures only; nothing is asserted.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/bin/rebootless.js');

const FIXES = [
  { header: 'include/linux/time_namespace.h', from: '\t*ts = timespec64_add(*ts, ns_offsets->boottime);\n}', to: '\t*ts = timespec64_add(*ts, ns_offsets->boottime);\n\tts->tv_sec += 1000000;\n}' },
  { header: 'include/linux/sched.h', from: '\treturn PRIO_TO_NICE((p)->static_prio);', to: '\treturn PRIO_TO_NICE((p)->static_prio) & 0x3f;' },
];

function diffOf(ws: KernelWorkspace, f: (typeof FIXES)[number], dir: string): string | undefined {
  const text = readFileSync(path.join(ws.sourceTree, f.header), 'utf8');
  if (!text.includes(f.from)) return undefined;
  writeFileSync(path.join(dir, 'a.h'), text);
  writeFileSync(path.join(dir, 'b.h'), text.replace(f.from, f.to));
  const r = spawnSync('diff', ['-u', '--label', `a/${f.header}`, '--label', `b/${f.header}`, path.join(dir, 'a.h'), path.join(dir, 'b.h')], { encoding: 'utf8' });
  const patch = path.join(dir, `${path.basename(f.header)}.patch`);
  writeFileSync(patch, r.stdout);
  return patch;
}

function build(ws: KernelWorkspace, patch: string, dir: string): { ms: number; report?: BuildReport; error?: string } {
  const json = path.join(dir, 'report.json');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'build', '--kernel', ws.release, '--name', 'bench_header', '-o', path.join(dir, 'h.ko'), '--json', json, patch], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) return { ms, error: r.stderr.trim().split('\n').slice(-2).join(' ') };
  return { ms, report: JSON.parse(readFileSync(json, 'utf8')) as BuildReport };
}

export async function benchHeaders(): Promise<void> {
  const ws = (await fetchRelease({ cacheRoot: cacheRoot(), progress: silentProgress })).workspace;
  const users = await headerUsers(ws, FIXES.map((f) => f.header));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-headers-'));
  try {
    for (const f of FIXES) {
      const patch = diffOf(ws, f, dir);
      if (!patch) {
        console.log(`${f.header}: the release's text differs; skipped`);
        continue;
      }
      const including = users.files.find((u) => u.file === f.header)?.units.length ?? 0;
      const first = build(ws, patch, dir);
      const again = build(ws, patch, dir);
      const h = again.report?.headers ?? first.report?.headers;
      if (!h) {
        console.log(`${f.header}: build failed: ${first.error ?? again.error ?? 'no header report'}`);
        continue;
      }
      console.log(
        `${f.header}: vmlinux units using it ${including}; names followed ${h.names}; sources considered ${h.considered}; units compiled ${h.compiled.length}; changed ${(h.changed ?? []).length}; search ${formatDuration(h.timings.search)}; build ${formatDuration(first.ms)} first, ${formatDuration(again.ms)} again`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
