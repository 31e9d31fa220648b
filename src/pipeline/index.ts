import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeElfBytes } from '../elf/files.js';
import { isRebootlessError } from '../errors/index.js';
import { workspaceCompiler } from '../kbuild/compile.js';
import { prepareLinkRecipe } from '../kbuild/link.js';
import { removePath } from '../util/fs.js';
import { createWorkDir, keepWorkDir } from '../util/work-dir.js';
import { commands } from './commands.js';
import { compile } from './compile.js';
import { diff } from './diff.js';
import { generate } from './generate.js';
import { isHeader, planHeaders } from './headers/index.js';
import { readKernelFacts } from './kernel-facts.js';
import { link } from './link.js';
import { isMakefile, newUnitRecords, wireNewFiles } from './new-files.js';
import { postLink } from './post-link.js';
import { liveExpectations, runPreStage } from './run-pre.js';
import type { BuildOptions, BuildReport } from './types.js';
import { validate } from './validate.js';
import { signModule } from './sign.js';
import { verifyModuleBytes } from './verify.js';

// `rebootless build`: a source diff to a livepatch module. The stages, in
// order, one file each:
//   validate   the diffs parsed, checked and applied in memory  (validate.ts)
//   headers    the units a header change reaches                 (headers/)
//   commands   kbuild's compile command for each changed file   (commands.ts)
//   compile    each changed file, as released and patched       (compile.ts)
//   diff       what changed, and whether a livepatch can carry it (diff.ts)
//   run-pre    the originals proven to be the code the release runs (run-pre.ts)
//   generate   the patch objects and klp_func rows               (generate.ts)
//   link       the module, by kbuild                             (link.ts)
//   post-link  livepatch relocations; exports and vermagic checked; the release code apply compares with (post-link.ts)
//   verify     read back and checked independently                (verify.ts)
//   sign       with --sign-key: signed by the tree's sign-file, checked with the certificate (sign.ts)
// and only then written.
// Only the files the diff touches are compiled, each with the command
// kbuild would run, outside the prepared tree: nothing is ever written in it.

export type { BuildOptions, BuildReport, BuiltObject } from './types.js';
export { readPatch } from './validate.js';

/** The warning every build made with --skip-run-pre carries (the module's .modinfo says `run_pre=skipped`). */
export const RUN_PRE_SKIPPED = "run-pre skipped (--skip-run-pre): nothing proved that the source compiled is the code the kernel runs; the module records it";

export const STAGES = ['validate', 'headers', 'commands', 'compile', 'diff', 'run-pre', 'generate', 'link', 'post-link', 'verify', 'sign'] as const;
type StageName = (typeof STAGES)[number];

/** The kernel module name of patch `name`, anything but [A-Za-z0-9_] as `_`: `cmdline` → `livepatch_cmdline`; a name that already starts with `livepatch_` is kept (no `livepatch_livepatch_`). */
export const patchModuleName = (name: string): string => {
  const clean = name.replace(/[^A-Za-z0-9_]/g, '_');
  return clean.startsWith('livepatch_') ? clean : `livepatch_${clean}`;
};

export async function buildLivepatch(o: BuildOptions): Promise<BuildReport> {
  const timings: Record<string, number> = {};
  const stage = async <T>(name: StageName, run: () => Promise<T> | T): Promise<T> => {
    const t0 = Date.now();
    o.progress.stage(name);
    const r = await run();
    timings[name] = Date.now() - t0;
    o.progress.stageDone(name, timings[name] ?? 0);
    return r;
  };
  const work = await createWorkDir('rebootless-build-');
  const moduleName = patchModuleName(o.name);
  const output = path.resolve(o.output);
  // read while the units compile; awaited by the stages that need it
  const kernel = readKernelFacts(o.workspace);
  kernel.catch(() => undefined);
  let keepWork = o.keepWorkdir === true;
  try {
    const { all, wired } = await stage('validate', async () => {
      const sources = await validate(o.patches, o.workspace.sourceTree);
      return { all: sources, wired: await wireNewFiles(sources, o.workspace.sourceTree, o.patches.join(', ')) };
    });
    const compiler = workspaceCompiler(o.workspace, o.signal);
    const changedHeaders = all.filter((f) => isHeader(f.path));
    let files = all.filter((f) => !isHeader(f.path) && !isMakefile(f.path));
    const plan = changedHeaders.length ? await stage('headers', () => planHeaders({ ws: o.workspace, compiler, headers: changedHeaders, files })) : undefined;
    if (plan) files = [...files, ...plan.units];
    // the release's first build learns how kbuild links while its units compile
    const recipe = prepareLinkRecipe(compiler, path.join(work, 'template')).catch(() => false);
    const records = await stage('commands', async () => new Map([...(await commands(compiler, files.filter((f) => !f.created))), ...(await newUnitRecords(compiler, wired))]));
    const compiled = await stage('compile', () => compile({ compiler, records, work, files, release: o.workspace.release, kernel, headers: plan?.headers ?? [] }));
    const changed = await stage('diff', () => diff(compiled));
    if (plan) plan.report.changed = changed.map((c) => c.source).filter((s) => plan.report.compiled.includes(s));
    const facts = await kernel;
    const checked = await stage('run-pre', () => runPreStage(changed, o.workspace, { skip: o.skipRunPre === true, facts }));
    const generated = await stage('generate', () => generate(checked, facts));
    if (o.skipRunPre) generated.warnings.unshift(RUN_PRE_SKIPPED);
    await recipe;
    const ko = await stage('link', () =>
      link({ options: o, runPre: o.skipRunPre ? 'skipped' : 'passed', moduleName, generated, tree: o.workspace.sourceTree, dir: path.join(work, 'module') }).catch((e: unknown) => {
        if (isRebootlessError(e) && e.code === 'BUILD_GENERATED_CODE_FAILED') keepWork = true;
        throw e;
      }),
    );
    // what apply will compare the running code with: the release's bytes of each function the klp_func rows name
    const linked = await stage('post-link', async () => postLink({ ko, expectations: await liveExpectations(checked, generated.built, facts), placeholders: generated.placeholders, exports: facts.exports, release: o.workspace.release, moduleName }));
    await stage('verify', () => verifyModuleBytes(linked.bytes, output, o.workspace, { vmlinux: facts.vmlinux, exports: facts.exports }));
    const sign = o.sign;
    const signed = sign ? await stage('sign', () => signModule(linked.bytes, sign, o.workspace, work, moduleName)) : undefined;
    await fsp.mkdir(path.dirname(output), { recursive: true });
    await writeElfBytes(output, signed?.bytes ?? linked.bytes);
    return {
      release: o.workspace.release,
      module: moduleName,
      output,
      objects: generated.built,
      // one warning per kind of entry, however many objects it is said of
      warnings: [...new Set([...generated.warnings, ...linked.warnings])],
      timings,
      ...(plan ? { headers: plan.report } : {}),
      ...(signed ? { signature: signed.report } : {}),
      ...(o.keepWorkdir ? { workdir: work } : {}),
    };
  } finally {
    await kernel.then((k) => k.vmlinux.close(), () => undefined);
    if (keepWork) await keepWorkDir(work);
    else await removePath(work);
  }
}
