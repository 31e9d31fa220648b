// `npm run corpus -- OLD NEW [DIR...]` (bench/: figures, nothing asserted): real fixes, one changed `.c` file at a
// time. Every `.c` file under DIR (default: kernel fs mm block lib net/ipv4
// drivers/block) whose text differs between the source trees of releases OLD
// and NEW becomes a diff against OLD; each is built with the CLI (dist/) for
// OLD and, when it builds, proven with `try` in a VM of OLD (check: `true`).
// Prints one line per file and the totals: built and proven, refused (by code),
// not compiling alone: then built again with the update's changes to the
// headers the file includes (the fix as a whole, header support). Takes
// minutes per file; nothing is asserted. Releases come from the cache (fetched
// if missing): e.g. `npm run corpus -- 6.1.0-54-cloud-amd64 6.1.0-57-cloud-amd64`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../src/kernel/cache.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import { silentProgress } from '../src/util/progress.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const DEFAULT_DIRS = ['kernel', 'fs', 'mm', 'block', 'lib', 'net/ipv4', 'drivers/block'];

type Outcome = { file: string; result: 'proven' | 'try-failed' | 'refused' | 'no-compile' | 'no-change' | 'error'; detail: string; headers?: string[] };

/** The headers `file` includes (as the tree lays them out) whose text the update changed. */
function changedIncludes(oldTree: string, newTree: string, file: string): string[] {
  const text = readFileSync(path.join(newTree, file), 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/^\s*#\s*include\s*([<"])([^>"]+)[>"]/gm)) {
    const name = m[2] as string;
    const candidates = m[1] === '"' ? [path.posix.join(path.posix.dirname(file), name), `include/${name}`] : [`include/${name}`, `arch/x86/include/${name}`];
    const h = candidates.find((c) => statSync(path.join(oldTree, c), { throwIfNoEntry: false }));
    if (h && statSync(path.join(newTree, h), { throwIfNoEntry: false }) && !readFileSync(path.join(oldTree, h)).equals(readFileSync(path.join(newTree, h)))) out.add(h);
  }
  return [...out].sort();
}

function diffOf(oldTree: string, newTree: string, file: string): string {
  return spawnSync('diff', ['-u', '--label', `a/${file}`, '--label', `b/${file}`, path.join(oldTree, file), path.join(newTree, file)], { encoding: 'utf8' }).stdout;
}

/** The file's change with its headers' changes, built and tried as above. */
function tryWithHeaders(release: string, oldTree: string, newTree: string, file: string, headers: string[], work: string, name: string): Outcome {
  const patch = path.join(work, `${name}-h.patch`);
  writeFileSync(patch, [file, ...headers].map((f) => diffOf(oldTree, newTree, f)).join(''));
  const ko = path.join(work, `${name}-h.ko`);
  const built = cli(['build', patch, '--kernel', release, '--name', `${name.slice(0, 38)}_h`, '-o', ko]);
  const units = /(\d+) built units? compiled, (\d+) changed/.exec(built.stdout);
  const reach = units ? ` (headers: ${units[1]} units compiled, ${units[2]} changed)` : '';
  if (built.code === 0) {
    const tried = cli(['try', ko, '--kernel', release, '--check', 'true']);
    return { file, headers, result: tried.code === 0 ? 'proven' : 'try-failed', detail: (tried.code === 0 ? 'with headers' : why(tried.stderr + tried.stdout)) + reach };
  }
  if (/does not compile for this release/.test(built.stderr)) return { file, headers, result: 'no-compile', detail: `still, with ${headers.join(' ')}` };
  if (built.code === 3) return { file, headers, result: 'no-change', detail: 'with headers' };
  return { file, headers, result: built.code === 2 ? 'refused' : 'error', detail: `with headers: ${why(built.stderr)}` };
}

/** Every `.c` file below `dir` of `tree`, relative to the tree. */
function cFiles(tree: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(tree, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && e.name.endsWith('.c')) out.push(r);
    }
  };
  if (statSync(path.join(tree, dir), { throwIfNoEntry: false })?.isDirectory()) walk(dir);
  return out;
}

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The first error line of a build, and its code in brackets when it has one. */
function why(stderr: string): string {
  const codes = [...new Set([...stderr.matchAll(/\[([A-Z_]{4,})[\];]/g)].map((m) => m[1]))];
  const line = stderr.split('\n').find((l) => l.startsWith('rebootless: error:')) ?? stderr.trim().split('\n').at(-1) ?? '';
  return codes.length ? codes.join(',') : line.replace(/^rebootless: error: /, '').slice(0, 120);
}

async function main(): Promise<void> {
  const [oldRelease, newRelease, ...dirs] = process.argv.slice(2);
  if (!oldRelease || !newRelease) throw new Error('usage: npm run corpus -- OLD_RELEASE NEW_RELEASE [DIR...]');
  const fetch = async (release: string) => (await fetchRelease({ cacheRoot: cacheRoot(), requested: release, progress: silentProgress })).workspace;
  const [a, b] = [await fetch(oldRelease), await fetch(newRelease)];
  const work = mkdtempSync(path.join(os.tmpdir(), 'rb-corpus-'));
  const outcomes: Outcome[] = [];
  try {
    const files = (dirs.length ? dirs : DEFAULT_DIRS).flatMap((d) => cFiles(b.sourceTree, d)).sort();
    for (const file of files) {
      const before = path.join(a.sourceTree, file);
      if (!statSync(before, { throwIfNoEntry: false })) continue; // a new file
      const after = path.join(b.sourceTree, file);
      if (readFileSync(before).equals(readFileSync(after))) continue;
      const name = file.replace(/[^A-Za-z0-9]/g, '_');
      const patch = path.join(work, `${name}.patch`);
      writeFileSync(patch, spawnSync('diff', ['-u', '--label', `a/${file}`, '--label', `b/${file}`, before, after], { encoding: 'utf8' }).stdout);
      const ko = path.join(work, `${name}.ko`);
      const built = cli(['build', patch, '--kernel', a.release, '--name', name.slice(0, 40), '-o', ko]);
      let o: Outcome;
      if (built.code === 0) {
        const tried = cli(['try', ko, '--kernel', a.release, '--check', 'true']);
        o = { file, result: tried.code === 0 ? 'proven' : 'try-failed', detail: tried.code === 0 ? (built.stdout.match(/patched {2}\S+/g) ?? []).join(' ').replaceAll('patched  ', '') : why(tried.stderr + tried.stdout) };
      } else if (/does not compile for this release/.test(built.stderr)) {
        // again with the update's changes to the headers the file includes: the fix as a whole
        const headers = changedIncludes(a.sourceTree, b.sourceTree, file);
        o = headers.length ? tryWithHeaders(a.release, a.sourceTree, b.sourceTree, file, headers, work, name) : { file, result: 'no-compile', detail: 'needs more of the update than this file' };
      }
      else if (built.code === 3) o = { file, result: 'no-change', detail: '' };
      else o = { file, result: built.code === 2 ? 'refused' : 'error', detail: why(built.stderr) };
      outcomes.push(o);
      console.log(`${o.result.padEnd(10)} ${file}${o.headers ? ` + ${o.headers.join(' + ')}` : ''}  ${o.detail}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const count = (r: Outcome['result']): number => outcomes.filter((o) => o.result === r).length;
  console.log(
    `\n${outcomes.length} changed .c files (${a.release} → ${b.release}): ${count('proven')} built and proven in the VM, ${count('try-failed')} built but failed try, ` +
      `${count('refused')} refused, ${count('no-compile')} do not compile (even with the update's changes to the headers they include), ${count('no-change')} no functional change, ${count('error')} errors; ` +
      `${outcomes.filter((o) => o.headers).length} needed their headers' changes too`,
  );
}

await main();
