import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileUnit, objectFor, unitRecord, workspaceCompiler } from '../src/kbuild/compile.js';
import { BUILD_CACHE_DIR, buildCacheDir } from '../src/kernel/build-cache.js';
import { cacheRoot } from '../src/kernel/cache.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import type { KernelWorkspace } from '../src/kernel/manifest.js';
import { formatBytes, formatDuration, silentProgress } from '../src/util/progress.js';

// Issue 14: `rebootless build` as a whole process (the installed command,
// dist/bin, as a user runs it), on the default release already fetched:
//   first    the release's first build after `kernel fetch`: the build
//            cache holds only what the fetch learnt (kbuild's environment,
//            the link recipe), timed apart
//   new file the release has built before, but never this file (nor this
//            patch's link)
//   again    the same patch built again (everything cached, the link's
//            compiles too)
//   other    another change of the same place in the same file, after those:
//            the patched unit compiles again, the original comes from the
//            cache; the link's compiles too when the patch touches the same
//            functions
// For larger units the build is set beside twice the unit's own compile
// command (kbuild's command, run directly). Peak memory is the build
// process's. Figures only; nothing is asserted.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/bin/rebootless.js');
const RSS_HOOK = path.join(ROOT, 'bench/rss-hook.mjs');

interface Edit {
  source: string;
  from: string;
  to: string;
  /** Another change of the same place: a second patch to the same file, as when a fix is reworked. */
  other: string;
}

const EDITS: Edit[] = [
  { source: 'fs/proc/version.c', from: 'seq_printf(m, linux_proc_banner,', to: 'seq_puts(m, "");\n\tseq_printf(m, linux_proc_banner,', other: 'seq_puts(m, " ");\n\tseq_printf(m, linux_proc_banner,' },
  { source: 'fs/namei.c', from: 'if (!d_is_symlink(dentry))\n\t\t\treturn -EINVAL;', to: 'if (!d_is_symlink(dentry))\n\t\t\treturn -ENOLINK;', other: 'if (!d_is_symlink(dentry))\n\t\t\treturn -ENOENT;' },
  { source: 'mm/memory.c', from: 'BUG: Bad page map in process', to: 'BUG: bad page map in process', other: 'BUG: bad page mapping in process' },
  { source: 'net/ipv4/tcp.c', from: 'Application bug, race in MSG_PEEK', to: 'application bug, race in MSG_PEEK', other: 'application bug: race in MSG_PEEK' },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const range = (xs: number[]): string => `${formatDuration(Math.min(...xs))}–${formatDuration(Math.max(...xs))}`;

/** A unified diff of one edit (`to`, or `other` when asked), made by diff(1); undefined when the release's text differs. */
function diffFor(ws: KernelWorkspace, e: Edit, dir: string, variant: 'to' | 'other' = 'to'): string | undefined {
  const text = readFileSync(path.join(ws.sourceTree, e.source), 'utf8');
  if (!text.includes(e.from)) return undefined;
  const a = path.join(dir, 'a.c');
  const b = path.join(dir, 'b.c');
  writeFileSync(a, text);
  writeFileSync(b, text.replace(e.from, e[variant]));
  const r = spawnSync('diff', ['-u', '--label', `a/${e.source}`, '--label', `b/${e.source}`, a, b], { encoding: 'utf8' });
  const file = path.join(dir, `${path.basename(e.source)}.${variant}.patch`);
  writeFileSync(file, r.stdout);
  return file;
}

/** One build as a process: wall time and peak RSS. */
function buildProcess(ws: KernelWorkspace, patch: string, out: string): { ms: number; rss: number } {
  const rssFile = `${out}.rss`;
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', RSS_HOOK, CLI, 'build', '--kernel', ws.release, '--name', 'bench', '-o', out, patch], {
    encoding: 'utf8',
    env: { ...process.env, RB_RSS_FILE: rssFile },
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`build failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { ms, rss: Number(readFileSync(rssFile, 'utf8')) * 1024 };
}

/** Empties the release's build cache and runs `kernel fetch` for it (which learns what builds start from): its time. */
function relearn(ws: KernelWorkspace, cache: string): number {
  rmSync(cache, { recursive: true, force: true });
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'kernel', 'fetch', ws.release], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kernel fetch ${ws.release} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return performance.now() - t;
}

/** Forgets what the build cache knows of one unit (its record and original object) and of the bench patch's link. */
function forgetUnit(cache: string, source: string): void {
  const obj = objectFor(source);
  for (const f of [path.join(cache, 'units', `${obj}.json`), path.join(cache, 'objects', obj), path.join(cache, 'objects', `${obj}.json`), path.join(cache, 'objects', '.rebootless-link', 'livepatch_bench')]) {
    rmSync(f, { recursive: true, force: true });
  }
}

export async function benchBuild(): Promise<void> {
  const t0 = performance.now();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  console.log(`(dist/ built in ${formatDuration(performance.now() - t0)})`);
  const ws = (await fetchRelease({ cacheRoot: cacheRoot(), progress: silentProgress })).workspace;
  const cache = buildCacheDir(ws);
  if (!cache) throw new Error(`the workspace of ${ws.release} has no ${BUILD_CACHE_DIR}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-build-'));
  let peak = 0;
  const timed = (patch: string, before: () => void, runs: number): number[] => {
    const ms: number[] = [];
    for (let n = 0; n < runs; n++) {
      before();
      const r = buildProcess(ws, patch, path.join(dir, `out-${n}.ko`));
      ms.push(r.ms);
      peak = Math.max(peak, r.rss);
    }
    return ms;
  };
  try {
    console.log(`release ${ws.release}; each figure is a whole \`rebootless build\` process`);
    const cc = workspaceCompiler(ws);
    for (const [n, e] of EDITS.entries()) {
      const editDir = path.join(dir, String(n));
      mkdirSync(editDir, { recursive: true });
      const patch = diffFor(ws, e, editDir);
      if (!patch) {
        console.log(`${e.source}: skipped (the text to change is not in this release)`);
        continue;
      }
      // the unit's own compile command, run directly (record learnt first, not timed)
      const u = await unitRecord(cc, objectFor(e.source));
      const content = readFileSync(path.join(ws.sourceTree, e.source));
      const direct: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await compileUnit(cc, u, { source: e.source, content, variant: 'original' }, path.join(dir, `direct-${n}-${i}`));
        direct.push(performance.now() - t);
      }
      // the release's first build, after `kernel fetch` (which learns kbuild's environment and link recipe: timed apart)
      const learning: number[] = [];
      const first = n === 0 ? timed(patch, () => learning.push(relearn(ws, cache)), 3) : undefined;
      const newFile = timed(patch, () => forgetUnit(cache, e.source), 3);
      const again = timed(patch, () => undefined, 5);
      const otherPatch = diffFor(ws, e, editDir, 'other') as string;
      const other = timed(otherPatch, () => undefined, 3);
      const d = median(direct);
      console.log(`${e.source}: its compile command alone ${formatDuration(d)} (median of 3)`);
      if (first) {
        console.log(`  kernel fetch, the release already there: learning kbuild's environment and link recipe ${formatDuration(median(learning))} (${range(learning)}), once per release`);
        console.log(`  first build of the release   ${formatDuration(median(first))} (${range(first)})  [goal ≤ 5s; was 12.4s]`);
      }
      console.log(`  first build of this file     ${formatDuration(median(newFile))} (${range(newFile)})${n === 0 ? '  [goal ≤ 5s]' : ''}  ratio build/(2×compile) ${(median(newFile) / (2 * d)).toFixed(2)}  [goal ≤ 1]`);
      console.log(`  again, same patch            ${formatDuration(median(again))} (${range(again)})${n === 0 ? '  [goal ≤ 3s]' : ''}  ratio ${(median(again) / (2 * d)).toFixed(2)}`);
      console.log(`  another patch to this file   ${formatDuration(median(other))} (${range(other)})${n === 0 ? '  [goal ≤ 3s]' : ''}  ratio ${(median(other) / (2 * d)).toFixed(2)}`);
    }
    console.log(`peak memory of a build process: ${formatBytes(peak)}  [goal ≤ 300 MiB]`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
