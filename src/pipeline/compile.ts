import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { parseElf } from '../elf/parse.js';
import { readElfFile } from '../elf/files.js';
import type { ElfFile } from '../elf/model.js';
import { compileUnit, objectFor, type PatchedHeader, type UnitCompiler, type UnitRecord } from '../kbuild/compile.js';
import { cachedObject, storeObject } from '../kbuild/object-cache.js';
import { ownerOfCommand } from '../kbuild/owner.js';
import { compilerOf } from '../elf/comment.js';
import { createRelocatable } from '../elf/create.js';
import { mapLimit } from '../util/concurrency.js';
import { preloadDecoder } from '../diff/index.js';
import type { CompiledObject, KernelFacts, PatchedSource } from './types.js';

// Stage 4, compile: each changed unit compiled with kbuild's own command for
// it (learnt in the commands stage), as released and patched at once, outside
// the prepared tree; the original comes from the build cache when an earlier
// build compiled it. Each object is read once. The first original's compiler
// must be the one vmlinux records.

export interface CompileInput {
  compiler: UnitCompiler;
  /** Each file's kbuild record (commands stage), by source path. */
  records: ReadonlyMap<string, UnitRecord>;
  /** The build's work directory: sources and objects go below it. */
  work: string;
  files: readonly PatchedSource[];
  release: string;
  kernel: Promise<KernelFacts>;
  /** Patched headers: every patched compile sees them instead of the tree's. */
  headers?: readonly PatchedHeader[];
}

export async function compile(i: CompileInput): Promise<CompiledObject[]> {
  // two compiles per file; never more processes than cores
  const jobs = i.files.flatMap((f) => (['original', 'patched'] as const).map((variant) => ({ f, variant })));
  const objects = await mapLimit(jobs, Math.max(1, os.cpus().length), async ({ f, variant }) => {
    const u = recordOf(i.records, f.path);
    if (variant === 'original') return f.created ? createRelocatable(objectFor(f.path)) : originalObject(i, f, u);
    // the diff stage's decoder loads while the compiler runs
    // with headers each unit has its own overlay (the patched headers beside links to their neighbours)
    const dir = i.headers?.length ? path.join(i.work, 'patched', String(i.files.indexOf(f))) : path.join(i.work, 'patched');
    return readElfFile(await compileUnit(i.compiler, u, { source: f.path, content: f.patched, variant, headers: i.headers ?? [] }, dir, preloadDecoder));
  });
  const out: CompiledObject[] = [];
  for (const [n, f] of i.files.entries()) {
    const orig = objects[2 * n] as ElfFile;
    const patched = objects[2 * n + 1] as ElfFile;
    if (f === i.files.find((x) => !x.created)) checkCompiler(i.release, (await i.kernel).compiler, orig);
    const u = recordOf(i.records, f.path);
    const owner = ownerOfCommand(u.commands[0] ?? []) ?? { kind: 'vmlinux' as const };
    out.push({ source: f.path, object: objectFor(f.path), owner, orig, patched, ...(f.created ? { created: true } : {}) });
  }
  return out;
}

const recordOf = (records: ReadonlyMap<string, UnitRecord>, source: string): UnitRecord => {
  const u = records.get(source);
  if (!u) throw new Error(`no kbuild record for ${source}`);
  return u;
};

/** The original object: the cached one when it is still right, else compiled (and cached). */
async function originalObject(i: CompileInput, f: PatchedSource, u: UnitRecord): Promise<ElfFile> {
  const object = objectFor(f.path);
  const cache = i.compiler.cacheDir;
  const key = { object, record: u.record, source: f.orig };
  if (cache) {
    const bytes = await cachedObject(cache, key);
    if (bytes) return parseElf(bytes, { file: path.join(cache, 'objects', object) });
  }
  const file = await compileUnit(i.compiler, u, { source: f.path, content: f.orig, variant: 'original' }, path.join(i.work, 'orig'));
  const elf = await readElfFile(file);
  if (cache) await storeObject(cache, key, await fsp.readFile(file));
  return elf;
}

/** The compiler recorded in vmlinux's .comment must be the one that compiled our objects. */
function checkCompiler(release: string, kernel: string | undefined, object: ElfFile): void {
  const ours = compilerOf(object);
  if (kernel && ours !== kernel) throw new RebootlessError('BUILD_COMPILER_MISMATCH', { release, kernel, object: ours ?? '(none)' });
}
