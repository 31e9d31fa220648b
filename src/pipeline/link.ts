import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { linkModule } from '../kbuild/link.js';
import { buildCacheDir } from '../kernel/build-cache.js';
import { workspaceToolchain } from '../kernel/toolchain.js';
import { renderKbuild, shippedRecord, SHIPPED_SUFFIX } from '../kbuild/records.js';
import { renderModuleSource } from '../klp/module-source.js';
import type { BuildOptions, GeneratedPatch } from './types.js';

// Stage 8, link: the module's C source (the klp tables) and the patch
// objects, linked by kbuild as an external module of the prepared tree (which it only reads). The user wrote
// none of this code: a failure here is ours, reported with the sources kept.

export interface LinkInput {
  options: Pick<BuildOptions, 'name' | 'replace' | 'description' | 'cves' | 'workspace' | 'signal'>;
  /** What the module records of run-pre. */
  runPre: 'passed' | 'skipped';
  moduleName: string;
  generated: GeneratedPatch;
  /** The directory the module is built in. */
  dir: string;
  /** The prepared release tree (only read). */
  tree: string;
}

export async function link(i: LinkInput): Promise<string> {
  const o = i.options;
  const parts = i.generated.patchObjects.map((_, n) => `patch${n}.o`);
  const files: Record<string, string | Uint8Array> = {
    'livepatch.c': renderModuleSource({
      name: o.name,
      objects: i.generated.objects,
      replace: o.replace,
      ...(o.description ? { description: o.description } : {}),
      ...(o.cves ? { cves: o.cves } : {}),
      importNamespaces: i.generated.namespaces,
      states: i.generated.states,
      runPre: i.runPre,
    }),
    Kbuild: renderKbuild(i.moduleName, ['livepatch.o', ...parts]),
  };
  for (const [n, part] of parts.entries()) {
    files[`${part}${SHIPPED_SUFFIX}`] = i.generated.patchObjects[n] as Uint8Array;
    const record = shippedRecord(part);
    files[record.file] = record.text;
  }
  try {
    const cacheDir = buildCacheDir(o.workspace);
    return await linkModule({
      tree: i.tree,
      cc: o.workspace.cc,
      release: o.workspace.release,
      toolchain: workspaceToolchain(o.workspace),
      ...(cacheDir ? { cacheDir } : {}),
      dir: i.dir,
      moduleName: i.moduleName,
      files,
      parts: ['livepatch.o', ...parts],
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (e) {
    if (!(e instanceof RebootlessError) || e.code !== 'COMMAND_FAILED') throw e;
    const d = e.data as { command: string; stderrTail: string };
    throw new RebootlessError('BUILD_GENERATED_CODE_FAILED', { module: i.moduleName, workdir: path.resolve(i.dir), command: d.command, output: d.stderrTail }, { cause: e });
  }
}
