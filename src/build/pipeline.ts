import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffObjects } from '../diff/index.js';
import type { DiffResult } from '../diff/types.js';
import { RebootlessError } from '../errors/index.js';
import { readElfFile, readElfSymbols, writeElfBytes } from '../kernel/elf-files.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { findModuleFile } from '../kernel/module-files.js';
import { readSymvers, type Export } from '../kernel/symvers.js';
import { SHN_UNDEF } from '../elf/constants.js';
import { findSymtab } from '../elf/edit.js';
import type { ElfFile } from '../elf/model.js';
import { modinfoOf, modinfoValue } from '../elf/modinfo.js';
import { compileObject, objectFor } from '../kbuild/compile.js';
import { linkModule } from '../kbuild/link.js';
import { readOwner, type ObjectOwner } from '../kbuild/owner.js';
import { createSnapshot, replaceFile } from '../kbuild/snapshot.js';
import { serializeElf } from '../elf/serialize.js';
import { extractPatchObject, type Placeholder } from '../klp/extract.js';
import { renderKbuild, renderModuleSource, type KlpObject } from '../klp/module-source.js';
import { convertToLivepatch } from '../klp/postlink.js';
import { removePath } from '../util/fs.js';
import type { Progress } from '../util/progress.js';
import { kernelResolver } from './kernel-refs.js';
import { verifyModuleBytes } from './verify.js';
import { applyFilePatch, checkSupported, parseSourcePatch, type FilePatch } from './source-patch.js';

// `rebootless build`: a source diff to a livepatch module, as a list of named
// steps. Only the files the diff touches are compiled.

export interface BuildOptions {
  workspace: KernelWorkspace;
  patches: string[];
  name: string;
  output: string;
  replace: boolean;
  description?: string;
  cves?: string[];
  keepWorkdir?: boolean;
  progress: Progress;
  signal?: AbortSignal;
}

export interface BuiltObject {
  source: string;
  object: string;
  owner: ObjectOwner;
  diff: DiffResult;
  patched: { name: string; sympos: number }[];
  carried: string[];
}

export interface BuildReport {
  release: string;
  module: string;
  output: string;
  objects: BuiltObject[];
  warnings: string[];
  timings: Record<string, number>;
  workdir?: string;
}

export async function buildLivepatch(o: BuildOptions): Promise<BuildReport> {
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    o.progress.stage(name);
    const r = await run();
    timings[name] = Date.now() - t0;
    o.progress.stageDone(name, timings[name] ?? 0);
    return r;
  };
  const sig = o.signal ? { signal: o.signal } : {};
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'rebootless-build-'));
  const moduleName = `livepatch_${o.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const warnings: string[] = [];
  const exports = await readSymvers(o.workspace.moduleSymvers);
  let keepWork = o.keepWorkdir === true;
  try {
    // 1. the diff: parsed, limited to .c files, applied in memory
    const files = await step('validate', async () => {
      const all: { fp: FilePatch; patchFile: string }[] = [];
      for (const p of o.patches) {
        const parsed = parseSourcePatch(await fsp.readFile(p, 'utf8'), p);
        checkSupported(parsed, p);
        for (const fp of parsed) all.push({ fp, patchFile: p });
      }
      const out: { path: string; orig: string; patched: string }[] = [];
      for (const { fp, patchFile } of all) {
        const prev = out.find((x) => x.path === fp.path);
        const base = prev?.patched ?? (await fsp.readFile(path.join(o.workspace.sourceTree, fp.path), 'utf8').catch(() => {
          throw new RebootlessError('PATCH_DOES_NOT_APPLY', { file: patchFile, path: fp.path, hunk: 1, line: 1, detail: 'no such file in the release source' });
        }));
        const patched = applyFilePatch(base, fp, patchFile);
        if (prev) prev.patched = patched;
        else out.push({ path: fp.path, orig: base, patched });
      }
      return out;
    });

    // 2. a snapshot of the prepared tree; 3. orig and patched objects
    const tree = await step('snapshot', () => createSnapshot(o.workspace.sourceTree, path.join(work, 'tree'), o.signal));
    const compiled = await step('compile', async () => {
      const res: { source: string; object: string; orig: string; patched: string; owner: ObjectOwner }[] = [];
      for (const f of files) {
        const obj = objectFor(f.path);
        const origCopy = path.join(work, 'orig', obj);
        await fsp.mkdir(path.dirname(origCopy), { recursive: true });
        await fsp.copyFile(await compileObject(tree, obj, { cc: o.workspace.cc, ...sig }), origCopy);
        await replaceFile(tree, f.path, f.patched);
        if (res.length === 0) await checkCompiler(o.workspace, origCopy);
        const patched = await compileObject(tree, obj, { cc: o.workspace.cc, ...sig });
        const owner = (await readOwner(tree, obj)) ?? { kind: 'vmlinux' as const };
        res.push({ source: f.path, object: obj, orig: origCopy, patched, owner });
      }
      return res;
    });

    // 4. what changed, and can it be patched
    const diffs = await step('diff', async () => {
      const out: { c: (typeof compiled)[number]; diff: DiffResult; orig: ElfFile; patched: ElfFile }[] = [];
      for (const c of compiled) {
        const [orig, patched] = await Promise.all([readElfFile(c.orig), readElfFile(c.patched)]);
        out.push({ c, diff: diffObjects(orig, patched, { module: c.owner.kind === 'module' }), orig, patched });
      }
      const refused = out.find((x) => x.diff.verdict === 'unpatchable');
      if (refused) {
        throw new RebootlessError('BUILD_UNPATCHABLE', {
          object: refused.c.object,
          reasons: refused.diff.refusals.map((r) => `${r.symbol}: ${r.reason} [${r.code}]; hint: ${r.hint}`),
        });
      }
      if (out.every((x) => x.diff.verdict === 'no-change')) throw new RebootlessError('BUILD_NO_CHANGE', { objects: out.map((x) => x.c.object) });
      return out.filter((x) => x.diff.verdict === 'patchable');
    });

    // 5. the patch object (one per changed object, merged by the linker)
    const generated = await step('generate', async () => {
      const vmlinux = await readElfSymbols(o.workspace.vmlinux);
      const vmSyms = vmlinux.sections.find((s) => s.symbols)?.symbols ?? [];
      const objects: KlpObject[] = [];
      const placeholders: Placeholder[] = [];
      const built: BuiltObject[] = [];
      const patchObjects: Record<string, Uint8Array | string> = {};
      const namespaces = new Set<string>();
      let n = 0;
      for (const { c, diff, orig, patched } of diffs) {
        const moduleSymbols = c.owner.kind === 'module' ? await moduleSymbolsOf(o.workspace, c.owner.name) : undefined;
        const resolve = kernelResolver({ object: orig, sourcePath: c.source, owner: c.owner, vmlinuxSymbols: vmSyms, exports, ...(moduleSymbols ? { moduleSymbols } : {}) });
        const origSections = new Set(orig.sections.map((s) => s.name));
        const po = extractPatchObject(patched, diff, { resolve, origSections, placeholderBase: `${n}_` });
        warnings.push(...po.warnings, ...diff.warnings);
        placeholders.push(...po.placeholders);
        for (const s of findSymtab(po.file)?.symbols ?? []) {
          const ns = s.section === null && s.name ? exports.get(s.name)?.namespace : undefined;
          if (ns) namespaces.add(ns);
        }
        // each function's place in the running kernel, by its original name (an exported name is unique: 0)
        const funcs = po.functions.map((f) => {
          const r = resolve({ name: f.oldName, local: f.local });
          return { oldName: f.oldName, newSymbol: f.newSymbol, sympos: r.kind === 'klp' ? r.sympos : 0 };
        });
        const module = c.owner.kind === 'module' ? c.owner.name : null;
        const existing = objects.find((x) => x.module === module);
        if (existing) existing.funcs.push(...funcs);
        else objects.push({ module, funcs });
        patchObjects[`patch${n}.o_shipped`] = serializeElf(po.file);
        // modpost reads every object's kbuild record (for the module's srcversion)
        patchObjects[`.patch${n}.o.cmd`] = `cmd_patch${n}.o := cat patch${n}.o_shipped > patch${n}.o\n\nsource_patch${n}.o := patch${n}.o_shipped\n\ndeps_patch${n}.o := \n`;
        built.push({
          source: c.source,
          object: c.object,
          owner: c.owner,
          diff,
          patched: funcs.map((f) => ({ name: f.oldName, sympos: f.sympos })),
          carried: diff.functions.filter((f) => f.include === 'carry').map((f) => f.name),
        });
        n++;
      }
      return { objects, placeholders, built, patchObjects, count: n, namespaces: [...namespaces] };
    });

    // 6. link with kbuild, then turn placeholder relocations into livepatch ones
    const ko = await step('link', async () => {
      const dir = path.join(work, 'module');
      const parts = Array.from({ length: generated.count }, (_, i) => `patch${i}.o`);
      const link = linkModule({
        headersDir: o.workspace.headersDir,
        dir,
        moduleName,
        files: {
          'livepatch.c': renderModuleSource({
            name: o.name,
            objects: generated.objects,
            replace: o.replace,
            ...(o.description ? { description: o.description } : {}),
            ...(o.cves ? { cves: o.cves } : {}),
            importNamespaces: generated.namespaces,
          }),
          Kbuild: renderKbuild(moduleName).replace('livepatch.o patch.o', ['livepatch.o', ...parts].join(' ')),
          ...generated.patchObjects,
        },
        ...sig,
      });
      // the user wrote none of this code: a failure here is ours, reported with the sources kept
      return link.catch((e: unknown) => {
        if (!(e instanceof RebootlessError) || e.code !== 'COMMAND_FAILED') throw e;
        keepWork = true;
        const d = e.data as { command: string; stderrTail: string };
        throw new RebootlessError('BUILD_GENERATED_CODE_FAILED', { module: moduleName, workdir: dir, command: d.command, output: d.stderrTail }, { cause: e });
      });
    });
    const linked = await step('post-link', async () => {
      const file = await readElfFile(ko);
      const r = convertToLivepatch(file, generated.placeholders);
      if (r.unused.length) warnings.push(`${r.unused.length} kernel reference(s) no longer used after linking`);
      checkLinked(file, exports, o.workspace.release, moduleName);
      return serializeElf(file);
    });
    // 7. read the module back and check it independently; only a module that passes is written
    await step('verify', async () => {
      await verifyModuleBytes(linked, path.resolve(o.output), o.workspace);
      await fsp.mkdir(path.dirname(path.resolve(o.output)), { recursive: true });
      await writeElfBytes(path.resolve(o.output), linked);
    });
    return {
      release: o.workspace.release,
      module: moduleName,
      output: path.resolve(o.output),
      objects: generated.built,
      warnings,
      timings,
      ...(o.keepWorkdir ? { workdir: work } : {}),
    };
  } finally {
    if (!keepWork) await removePath(work);
  }
}

/** The NUL-separated strings of a `.comment` section. */
function commentStrings(file: ElfFile): string[] {
  const sec = file.sections.find((s) => s.name === '.comment');
  return sec ? Buffer.from(sec.data).toString('latin1').split('\0').filter(Boolean) : [];
}

/** The compiler recorded in vmlinux's .comment must be the one that compiled our objects. */
async function checkCompiler(ws: KernelWorkspace, object: string): Promise<void> {
  const vmlinux = await readElfSymbols(ws.vmlinux, { include: (s) => s.name === '.comment' });
  const kernel = commentStrings(vmlinux).find((c) => c.startsWith('GCC:'));
  const ours = commentStrings(await readElfFile(object)).find((c) => c.startsWith('GCC:'));
  if (kernel && ours !== kernel) throw new RebootlessError('BUILD_COMPILER_MISMATCH', { release: ws.release, kernel, object: ours ?? '(none)' });
}

/** Every undefined symbol left is an export the loader can resolve, and vermagic is the release's. */
function checkLinked(file: ElfFile, exports: Map<string, Export>, release: string, moduleName: string): void {
  const symbols = file.sections.find((s) => s.symbols)?.symbols ?? [];
  const missing = symbols.filter((s) => s.name && s.section === null && s.shndx === SHN_UNDEF && !exports.has(s.name)).map((s) => s.name);
  if (missing.length) throw new RebootlessError('BUILD_MODULE_CHECK', { module: moduleName, problem: `undefined symbol(s) neither exported nor livepatch-relocated: ${missing.join(', ')}` });
  const vermagic = modinfoValue(modinfoOf(file) ?? [], 'vermagic') ?? '';
  if (!vermagic.startsWith(`${release} `)) throw new RebootlessError('BUILD_MODULE_CHECK', { module: moduleName, problem: `vermagic '${vermagic}' is not for ${release}` });
}

async function moduleSymbolsOf(ws: KernelWorkspace, name: string) {
  const file = await findModuleFile(ws.modulesDir, name);
  if (!file) throw new RebootlessError('BUILD_TARGET_MODULE_MISSING', { module: name, release: ws.release, modulesDir: ws.modulesDir });
  return findSymtab(await readElfFile(file))?.symbols ?? [];
}
