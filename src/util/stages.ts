import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError, isRebootlessError } from '../errors/index.js';
import { isNoSpaceError, pathExists, processAlive, removePath, writeFileAtomic } from './fs.js';
import type { Progress } from './progress.js';

// A staged directory: each stage writes its output under a private partial
// name and renames it into place, then drops a completion marker. A stage
// without a marker is redone from scratch; a stage that reruns invalidates
// every later stage. Nothing half-written is ever used.

export interface StageContext {
  root: string;
  /** For stages with an output: the directory to fill (renamed into place on success). */
  out: string;
  /** True when an earlier attempt of an in-place stage started but did not finish. */
  resumed: boolean;
  progress: Progress;
  signal: AbortSignal | undefined;
}

export interface Stage {
  name: string;
  /** Directory (relative to root) this stage produces; omit for an in-place stage. */
  output?: string;
  run(ctx: StageContext): Promise<void>;
}

export interface StageRecord {
  name: string;
  skipped: boolean;
  ms: number;
}

const MARKERS = '.stages';

export function markerPath(root: string, stage: string): string {
  return path.join(root, MARKERS, `${stage}.done`);
}

function startedPath(root: string, stage: string): string {
  return path.join(root, MARKERS, `${stage}.started`);
}

export async function stageDone(root: string, stage: Stage): Promise<boolean> {
  if (!(await pathExists(markerPath(root, stage.name)))) return false;
  return stage.output === undefined || pathExists(path.join(root, stage.output));
}

/** Removes partial outputs left by processes that are gone. */
async function removeStalePartials(root: string, output: string): Promise<void> {
  const dir = path.dirname(path.join(root, output));
  const base = path.basename(output);
  const entries = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const name of entries) {
    const m = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.partial-(\\d+)$`).exec(name);
    if (m && !processAlive(Number(m[1]))) await removePath(path.join(dir, name));
  }
}

/**
 * Runs the stages in order; an array in the list is a group whose stages run at once (they must
 * not need each other's output). A group's stages report bytes through the first of them only,
 * so that the progress line follows one. When any stage of a group reruns, every later stage
 * does too; a failing stage fails the group once its siblings have ended.
 */
export async function runStages(
  root: string,
  stages: readonly (Stage | readonly Stage[])[],
  options: { progress: Progress; signal?: AbortSignal },
): Promise<StageRecord[]> {
  await fsp.mkdir(path.join(root, MARKERS), { recursive: true });
  const records: StageRecord[] = [];
  let invalidateRest = false;
  for (const entry of stages) {
    const group = Array.isArray(entry) ? (entry as readonly Stage[]) : [entry as Stage];
    const done = await Promise.all(group.map(async (stage) => !invalidateRest && (await stageDone(root, stage))));
    const ran = await Promise.allSettled(
      group.map(async (stage, k): Promise<StageRecord> => {
        if (done[k]) {
          options.progress.stageDone(stage.name, 0, true);
          return { name: stage.name, skipped: true, ms: 0 };
        }
        const progress = k === 0 ? options.progress : { ...options.progress, bytes: () => undefined };
        return runMarked(root, stage, { ...options, progress });
      }),
    );
    const failed = ran.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of ran) if (r.status === 'fulfilled') records.push(r.value);
    if (done.some((d) => !d)) invalidateRest = true;
  }
  return records;
}

/** One stage run from scratch, its completion marker written when it succeeds. */
async function runMarked(root: string, stage: Stage, options: { progress: Progress; signal?: AbortSignal }): Promise<StageRecord> {
  await fsp.rm(markerPath(root, stage.name), { force: true });
  const t0 = Date.now();
  options.progress.stage(stage.name);
  await runOne(root, stage, options);
  const ms = Date.now() - t0;
  await writeFileAtomic(markerPath(root, stage.name), JSON.stringify({ completedAt: new Date().toISOString(), ms }) + '\n');
  options.progress.stageDone(stage.name, ms);
  return { name: stage.name, skipped: false, ms };
}

async function runOne(root: string, stage: Stage, options: { progress: Progress; signal?: AbortSignal }): Promise<void> {
  const started = startedPath(root, stage.name);
  const resumed = await pathExists(started);
  let out = root;
  if (stage.output !== undefined) {
    await removeStalePartials(root, stage.output);
    await removePath(path.join(root, stage.output));
    out = path.join(root, `${stage.output}.partial-${process.pid}`);
    await removePath(out);
    await fsp.mkdir(out, { recursive: true });
  }
  await writeFileAtomic(started, `${process.pid}\n`);
  try {
    if (options.signal?.aborted) throw new RebootlessError('INTERRUPTED', { signal: 'SIGINT' });
    await stage.run({ root, out, resumed, progress: options.progress, signal: options.signal });
    if (options.signal?.aborted) throw new RebootlessError('INTERRUPTED', { signal: 'SIGINT' });
    if (stage.output !== undefined) await fsp.rename(out, path.join(root, stage.output));
  } catch (e) {
    if (stage.output !== undefined) await removePath(out);
    if (isNoSpaceError(e)) {
      throw new RebootlessError('DISK_FULL', { path: stage.output ? path.join(root, stage.output) : root, stage: stage.name }, { cause: e });
    }
    if (options.signal?.aborted && !(isRebootlessError(e) && e.code === 'INTERRUPTED')) {
      throw new RebootlessError('INTERRUPTED', { signal: 'SIGINT' }, { cause: e });
    }
    throw e;
  }
  await fsp.rm(started, { force: true });
}
