import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RebootlessError, isRebootlessError } from '../errors/index.js';
import { buildCacheDir } from '../kernel/build-cache.js';
import { kbuildVariables, type KbuildTarget } from '../kernel/kbuild-vars.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { runInToolchain, workspaceToolchain, type Toolchain } from '../kernel/toolchain.js';
import { writeFileAtomic } from '../util/fs.js';
import { descentDryRun, directoryDryRun, kbuildEnvironment } from './kbuild-env.js';
import { sha256 } from './object-cache.js';
import { commandsOfRecord, dryRunArgs, recordsFromDryRun, replayCommands } from './unit-command.js';

// Compile one translation unit exactly as kbuild does, without make and
// without writing in the prepared tree: kbuild's recorded command for the
// unit (unit-command.ts), learnt once per release and unit and cached beside
// the tree, replayed on a copy of the source outside it, plus one section per
// function and per data object (what the differ needs).

export const DIFF_CFLAGS = '-ffunction-sections -fdata-sections';

export interface UnitCompiler extends KbuildTarget {
  /** The prepared release tree: only read. */
  tree: string;
  /** Where the compiler runs: the host, or the release's build root. */
  toolchain: Toolchain;
  /** Where learnt records are kept between builds (the workspace's build cache); none: learnt every time. */
  cacheDir?: string;
  signal?: AbortSignal;
}

/** The compiler of a workspace's units: its tree, compiler, toolchain and build cache. */
export function workspaceCompiler(ws: KernelWorkspace, signal?: AbortSignal): UnitCompiler {
  const cacheDir = buildCacheDir(ws);
  return {
    tree: ws.sourceTree,
    cc: ws.cc,
    release: ws.release,
    toolchain: workspaceToolchain(ws),
    ...(cacheDir ? { cacheDir } : {}),
    ...(signal ? { signal } : {}),
  };
}

export interface UnitRecord {
  /** kbuild's command text for the object. */
  record: string;
  commands: string[][];
}

/** What a learnt record depends on besides the tree's makefiles: compiler, release, flags, toolchain and the tree's .config. */
export async function recordKey(c: Pick<UnitCompiler, 'tree' | 'cc' | 'release' | 'toolchain'>): Promise<string> {
  const config = await fsp.readFile(path.join(c.tree, '.config')).catch(() => Buffer.alloc(0));
  return sha256(JSON.stringify({ cc: c.cc, release: c.release, kcflags: DIFF_CFLAGS, toolchain: c.toolchain.kind === 'root' ? c.toolchain.root : 'host', config: sha256(config) }));
}

/**
 * Learns, once per release, what every unit's dry run starts from: the top
 * Makefile's environment (kbuild-env.ts), kept in the build cache.
 */
export async function learnKbuildEnvironment(c: UnitCompiler): Promise<void> {
  if (c.cacheDir) await kbuildEnvironment(c, DIFF_CFLAGS, c.cacheDir, await recordKey(c));
}

/** kbuild's command for `object` in the tree: from the cache, else learnt by a dry run of make (and cached). */
export async function unitRecord(c: UnitCompiler, object: string): Promise<UnitRecord> {
  return (await unitRecords(c, [object]))[0] as UnitRecord;
}

/** unitRecord for several objects: those not cached are learnt by one dry run (kbuild's flags are worked out once). */
export async function unitRecords(c: UnitCompiler, objects: readonly string[]): Promise<UnitRecord[]> {
  const key = await recordKey(c);
  const fileOf = (object: string): string | undefined => (c.cacheDir ? path.join(c.cacheDir, 'units', `${object}.json`) : undefined);
  const records = new Map<string, string>();
  for (const object of objects) {
    const file = fileOf(object);
    const cached = file ? await fsp.readFile(file, 'utf8').then((t) => JSON.parse(t) as { key?: unknown; record?: unknown }, () => undefined) : undefined;
    if (cached?.key === key && typeof cached.record === 'string') records.set(object, cached.record);
  }
  const missing = [...new Set(objects.filter((o) => !records.has(o)))];
  const learnt = new Map<string, string>();
  if (missing.length && c.cacheDir) {
    // the descent alone, with the top Makefile's environment learnt once per release; anything it misses goes the full way
    const fast = recordsFromDryRun(await fastDryRun(c, c.cacheDir, key, missing).catch(() => ''));
    for (const object of missing) {
      const record = fast.get(object);
      if (record !== undefined) learnt.set(object, record);
    }
  }
  const rest = missing.filter((o) => !learnt.has(o));
  if (rest.length) {
    const stdout = await fullDryRun(c, rest);
    const found = recordsFromDryRun(stdout);
    for (const object of rest) {
      const record = found.get(object);
      if (record === undefined) throw new RebootlessError('KBUILD_COMMAND_UNKNOWN', { object, tree: c.tree, output: stdout.trimEnd().split('\n').slice(-8).join('\n') });
      learnt.set(object, record);
    }
  }
  for (const [object, record] of learnt) {
    commandsOfRecord(record, object); // refused before it is kept
    const file = fileOf(object);
    if (file) {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, JSON.stringify({ key, record }) + '\n');
    }
    records.set(object, record);
  }
  return objects.map((object) => {
    const record = records.get(object) as string;
    return { record, commands: commandsOfRecord(record, object) };
  });
}

/** `make -n` of the objects from the top of the tree (kbuild/unit-command.ts). */
async function fullDryRun(c: UnitCompiler, objects: readonly string[]): Promise<string> {
  const { stdout } = await runInToolchain(c.toolchain, 'make', ['-C', c.tree, ...kbuildVariables(c), ...dryRunArgs(objects, DIFF_CFLAGS)], {
    cwd: c.tree,
    ...(c.signal ? { signal: c.signal } : {}),
  }).catch((e: unknown) => {
    const tail = isRebootlessError(e) && e.code === 'COMMAND_FAILED' ? (e as RebootlessError<'COMMAND_FAILED'>).data.stderrTail : '';
    const noRule = /No rule to make target '([^']+)'/.exec(tail);
    if (noRule) throw new RebootlessError('KBUILD_COMMAND_UNKNOWN', { object: noRule[1] as string, tree: c.tree, output: tail }, { cause: e });
    throw e;
  });
  return stdout;
}

/**
 * Which of `objects` the release's configuration builds, with their records:
 * one dry run of kbuild's descent into each directory (every object a
 * directory's Makefile builds under the release's .config, and its
 * subdirectories'). Objects no dry run builds are left out.
 */
export async function builtObjects(c: UnitCompiler, dirs: readonly string[], objects: readonly string[]): Promise<Map<string, UnitRecord>> {
  const out = new Map<string, UnitRecord>();
  if (!c.cacheDir || !objects.length) return out;
  const env = await kbuildEnvironment(c, DIFF_CFLAGS, c.cacheDir, await recordKey(c));
  let pending = [...objects];
  for (const dir of dirs) {
    if (!pending.length) break;
    const run = directoryDryRun(env, dir);
    const { stdout } = await runInToolchain(c.toolchain, 'make', run.args, { cwd: c.tree, env: run.env, ...(c.signal ? { signal: c.signal } : {}) });
    const found = recordsFromDryRun(stdout);
    for (const object of pending) {
      const record = found.get(object);
      if (record !== undefined) out.set(object, { record, commands: commandsOfRecord(record, object) });
    }
    pending = pending.filter((o) => !out.has(o));
  }
  return out;
}

/** `make -n` of the objects from kbuild's descent (kbuild-env.ts). */
async function fastDryRun(c: UnitCompiler, cacheDir: string, key: string, objects: readonly string[]): Promise<string> {
  const run = descentDryRun(await kbuildEnvironment(c, DIFF_CFLAGS, cacheDir, key), objects);
  const { stdout } = await runInToolchain(c.toolchain, 'make', run.args, { cwd: c.tree, env: run.env, ...(c.signal ? { signal: c.signal } : {}) });
  return stdout;
}

/**
 * Compiles `content` as the tree's `source` with kbuild's command, under
 * `dir` (the source copy in `dir/src`, the object in `dir/obj`); returns the
 * object's path. A compiler error names the source as the tree calls it.
 * `started` is called once the compiler runs (the caller's own work then
 * overlaps it).
 */
export async function compileUnit(
  c: UnitCompiler,
  u: UnitRecord,
  unit: { source: string; content: string | Uint8Array; variant: 'original' | 'patched'; headers?: readonly PatchedHeader[] },
  dir: string,
  started?: () => void,
): Promise<string> {
  const { source, content } = unit;
  const object = objectFor(source);
  const overlayRoot = path.join(dir, 'src');
  const output = path.join(dir, 'obj', object);
  await fsp.mkdir(path.dirname(path.join(overlayRoot, source)), { recursive: true });
  await fsp.mkdir(path.dirname(output), { recursive: true });
  await fsp.writeFile(path.join(overlayRoot, source), content);
  // the patched text may use the author API (<linux/rebootless.h>): a copy beside it, visible in a build root too
  const afterIncludes = unit.variant === 'patched' ? [await copyAuthorHeaders(dir)] : [];
  const headers = unit.headers ?? [];
  if (headers.length) await writeHeaderOverlay(c.tree, overlayRoot, headers);
  const steps = replayCommands(
    u.commands,
    { source, object, overlayRoot, output, depDir: path.dirname(output), afterIncludes, headers: headers.map((h) => h.path) },
    u.record,
  );
  for (const [n, [file, ...args]] of steps.entries()) {
    try {
      const running = runInToolchain(c.toolchain, file as string, args, { cwd: c.tree, ...(c.signal ? { signal: c.signal } : {}) });
      if (n === 0) started?.();
      await running;
    } catch (e) {
      if (n > 0 || !isRebootlessError(e) || e.code !== 'COMMAND_FAILED') throw e;
      const d = (e as RebootlessError<'COMMAND_FAILED'>).data;
      throw new RebootlessError('BUILD_COMPILE_FAILED', { source, variant: unit.variant, output: d.stderrTail.split(`${overlayRoot}/`).join('') }, { cause: e });
    }
  }
  return output;
}

export interface PatchedHeader {
  /** Relative to the tree. */
  path: string;
  content: string;
}

/**
 * The patched headers under `overlayRoot`, each beside links to every other
 * entry of its directory in the tree: a quoted include from a patched header
 * (or from a sibling reached through the overlay) finds its neighbours, the
 * patched ones included.
 */
async function writeHeaderOverlay(tree: string, overlayRoot: string, headers: readonly PatchedHeader[]): Promise<void> {
  for (const h of headers) {
    await fsp.mkdir(path.dirname(path.join(overlayRoot, h.path)), { recursive: true });
    await fsp.writeFile(path.join(overlayRoot, h.path), h.content);
  }
  for (const dir of new Set(headers.map((h) => path.dirname(h.path)))) {
    const here = new Set(await fsp.readdir(path.join(overlayRoot, dir)));
    for (const e of await fsp.readdir(path.join(tree, dir))) {
      if (!here.has(e)) await fsp.symlink(path.join(tree, dir, e), path.join(overlayRoot, dir, e));
    }
  }
}

/** The package's include/ (linux/rebootless.h): two folders up from src/kbuild, dist/kbuild and dist/bin alike. */
export const AUTHOR_INCLUDE = fileURLToPath(new URL('../../include', import.meta.url));

/** The copies made or under way, by folder: units compiled at once into one folder share one. */
const authorCopies = new Map<string, Promise<string>>();

/** The author API's headers copied under `dir`/include; that folder. */
function copyAuthorHeaders(dir: string): Promise<string> {
  const to = path.join(dir, 'include');
  let copy = authorCopies.get(to);
  if (!copy) {
    // forgotten once done: a copy over a finished one is harmless, two at once are not (both make the folder)
    copy = fsp.cp(AUTHOR_INCLUDE, to, { recursive: true }).then(() => to).finally(() => authorCopies.delete(to));
    authorCopies.set(to, copy);
  }
  return copy;
}

/** unitRecord then compileUnit: `content` (default: the tree's own text) compiled as `source`, under `dir`. */
export async function compileSource(c: UnitCompiler, source: string, dir: string, content?: string | Uint8Array): Promise<string> {
  const u = await unitRecord(c, objectFor(source));
  const text = content ?? (await fsp.readFile(path.join(c.tree, source)));
  return compileUnit(c, u, { source, content: text, variant: content === undefined ? 'original' : 'patched' }, dir);
}

/** `fs/proc/cmdline.c` → `fs/proc/cmdline.o` */
export const objectFor = (sourceRel: string): string => sourceRel.replace(/\.c$/, '.o');
