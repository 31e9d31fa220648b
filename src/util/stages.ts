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

export async function runStages(
  root: string,
  stages: readonly Stage[],
  options: { progress: Progress; signal?: AbortSignal },
): Promise<StageRecord[]> {
  await fsp.mkdir(path.join(root, MARKERS), { recursive: true });
  const records: StageRecord[] = [];
  let invalidateRest = false;
  for (const stage of stages) {
    if (!invalidateRest && (await stageDone(root, stage))) {
      options.progress.stageDone(stage.name, 0, true);
      records.push({ name: stage.name, skipped: true, ms: 0 });
      continue;
    }
    invalidateRest = true;
    await fsp.rm(markerPath(root, stage.name), { force: true });
    const t0 = Date.now();
    options.progress.stage(stage.name);
    await runOne(root, stage, options);
    const ms = Date.now() - t0;
    await writeFileAtomic(markerPath(root, stage.name), JSON.stringify({ completedAt: new Date().toISOString(), ms }) + '\n');
    options.progress.stageDone(stage.name, ms);
    records.push({ name: stage.name, skipped: false, ms });
  }
  return records;
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
