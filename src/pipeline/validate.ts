import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { otherArchitecture } from '../kernel/source-subset.js';
import { applyFilePatch, checkSupported, parseSourcePatch, type FilePatch } from './source-patch.js';
import type { PatchedSource } from './types.js';

// Stage 1, validate: every diff parsed and checked for what a livepatch can
// carry (.c files and headers), then applied in memory to the release source, in
// order; several diffs touching one file stack.

export async function validate(patches: readonly string[], sourceTree: string): Promise<PatchedSource[]> {
  const all: { fp: FilePatch; patchFile: string }[] = [];
  for (const p of patches) {
    const parsed = parseSourcePatch(await readPatch(p), p);
    checkSupported(parsed, p);
    for (const fp of parsed) all.push({ fp, patchFile: p });
  }
  const out: PatchedSource[] = [];
  for (const { fp, patchFile } of all) {
    const prev = out.find((x) => x.path === fp.path);
    const base = prev?.patched ?? (fp.kind === 'create' ? '' : await readSource(sourceTree, fp.path, patchFile));
    const patched = applyFilePatch(base, fp, patchFile);
    if (prev) prev.patched = patched;
    else out.push({ path: fp.path, orig: base, patched, ...(fp.kind === 'create' ? { created: true } : {}) });
  }
  return out;
}

/** A patch file's text; one that cannot be read says so (FILE_READ_FAILED), before any work. */
export function readPatch(file: string): Promise<string> {
  return fsp.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new RebootlessError('FILE_READ_FAILED', { path: file, reason: e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a patch file' : e.message }, { cause: e });
  });
}

function readSource(sourceTree: string, rel: string, patchFile: string): Promise<string> {
  return fsp.readFile(path.join(sourceTree, rel), 'utf8').catch(() => {
    // kernel fetch does not unpack other architectures' code (kernel/source-subset.ts)
    const arch = otherArchitecture(rel);
    if (arch) throw new RebootlessError('PATCH_OTHER_ARCH', { file: patchFile, path: rel, arch });
    throw new RebootlessError('PATCH_DOES_NOT_APPLY', { file: patchFile, path: rel, hunk: 1, line: 1, detail: 'no such file in the release source' });
  });
}
