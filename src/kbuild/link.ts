import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { kbuildVariables, type KbuildTarget } from '../kernel/kbuild-vars.js';
import { runInToolchain, type Toolchain } from '../kernel/toolchain.js';
import { writeFileAtomic } from '../util/fs.js';
import { recordKey } from './compile.js';
import { commonObject, compiledRecord, compileSteps, learnLinkRecipe, linkInputs, recipeCommands, type LinkRecipe } from './link-recipe.js';
import { cachedObject, storeObject, type ObjectKey } from './object-cache.js';
import { renderKbuild, SHIPPED_SUFFIX } from './records.js';

// Linking the livepatch module as an external module of the prepared
// release tree (`modules_prepare` done, the release's Module.symvers in it):
// the tree's own kbuild, host programs and linker script, whatever version
// of Debian's linux-kbuild package the archive still serves. modpost is told
// to only warn about the symbols the post-link step turns into livepatch
// relocations. The first link of a release runs kbuild (`make M=`); its
// records become the release's link recipe (link-recipe.ts), which later
// links replay without make. An external module build writes nothing in
// the tree.

export interface LinkInput extends KbuildTarget {
  /** A prepared kernel tree, only read. */
  tree: string;
  toolchain?: Toolchain;
  /** The release's build cache: the link recipe is kept there. */
  cacheDir?: string;
  dir: string;
  moduleName: string;
  /** The module's files: Kbuild, livepatch.c, `<part>.o_shipped` and their `.cmd` records. */
  files: Record<string, string | Uint8Array>;
  /** The module's objects in link order, as its Kbuild file lists them. */
  parts: readonly string[];
  signal?: AbortSignal;
}

/** Bumped when the module's layout (its Kbuild parts) changes, so older recipes are learnt again. */
const RECIPE_LAYOUT = 2;

type RecipeTarget = Pick<LinkInput, 'tree' | 'cc' | 'release' | 'toolchain' | 'cacheDir' | 'signal'>;

const recipeFileOf = (t: RecipeTarget): string | undefined => (t.cacheDir ? path.join(t.cacheDir, 'link-recipe.json') : undefined);
/** The release's `.module-common.o`, kept beside the recipe (the key names the recipe it came from). */
const commonFileOf = (recipeFile: string, key: string): string => path.join(path.dirname(recipeFile), `module-common-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.o`);
const recipeKey = async (t: RecipeTarget): Promise<string> => `${RECIPE_LAYOUT}:${await recordKey({ ...t, toolchain: t.toolchain ?? { kind: 'host' } })}`;

/**
 * Makes sure the release has a link recipe, learning it by a kbuild link of
 * a module that only has the livepatch.c part, in `dir` (a build starts this
 * while its units compile, so its own link can replay). Returns whether there is one.
 */
export async function prepareLinkRecipe(t: RecipeTarget, dir: string): Promise<boolean> {
  const file = recipeFileOf(t);
  if (!file) return false;
  if (await readRecipe(file, await recipeKey(t))) return true;
  const name = 'livepatch_rebootless_template';
  const files = { 'livepatch.c': '#include <linux/module.h>\nstatic int __init template_init(void) { return 0; }\nmodule_init(template_init);\nMODULE_LICENSE("GPL");\n', Kbuild: renderKbuild(name, ['livepatch.o']) };
  await linkModule({ ...t, dir, moduleName: name, files, parts: ['livepatch.o'] });
  return (await readRecipe(file, await recipeKey(t))) !== undefined;
}

export async function linkModule(i: LinkInput): Promise<string> {
  await fsp.mkdir(i.dir, { recursive: true });
  for (const [name, content] of Object.entries(i.files)) await fsp.writeFile(path.join(i.dir, name), content);
  const tc = i.toolchain ?? { kind: 'host' as const };
  const run = { cwd: i.tree, ...(i.signal ? { signal: i.signal } : {}) };
  const recipeFile = recipeFileOf(i);
  const key = await recipeKey(i);
  const recipe = recipeFile ? await readRecipe(recipeFile, key) : undefined;
  if (recipe) {
    for (const [name, content] of Object.entries(i.files)) {
      if (name.endsWith(SHIPPED_SUFFIX)) await fsp.writeFile(path.join(i.dir, name.slice(0, -SHIPPED_SUFFIX.length)), content);
    }
    for (const [name, text] of Object.entries(linkInputs(recipe, i.dir, i.moduleName, i.parts))) await fsp.writeFile(path.join(i.dir, name), text);
    const compiles = new Map(compileSteps(i.dir, i.moduleName).map((c) => [c.step, c]));
    for (const [n, line] of recipeCommands(recipe, i.dir, i.moduleName).entries()) {
      const step = (): Promise<unknown> => runInToolchain(tc, 'sh', ['-c', line], run);
      const c = compiles.get(n);
      if (n === recipe.common && recipeFile) await commonStep(recipeFile, key, i.dir, step);
      else if (c && i.cacheDir) await compileStep(i.cacheDir, { object: `${LINK_SLOT}/${i.moduleName}/${path.basename(c.object)}`, record: `${key}\n${recipe.steps[n]}\n${i.moduleName}`, source: await fsp.readFile(c.source) }, c.object, step);
      else await step();
      if (n === 0) {
        const record = compiledRecord(recipe, i.dir, i.moduleName);
        await fsp.writeFile(path.join(i.dir, record.file), record.text);
      }
    }
  } else {
    await runInToolchain(tc, 'make', ['-C', i.tree, `M=${i.dir}`, ...kbuildVariables(i), 'KBUILD_MODPOST_WARN=1', 'modules'], { ...run, cwd: i.dir });
    const config = await fsp.readFile(path.join(i.tree, '.config'), 'utf8').catch(() => '');
    const learnt = recipeFile ? await learnLinkRecipe(i.dir, i.moduleName, config) : undefined;
    if (recipeFile && learnt) {
      await fsp.mkdir(path.dirname(recipeFile), { recursive: true });
      if (learnt.common !== undefined) await keepCommon(recipeFile, key, i.dir);
      await writeFileAtomic(recipeFile, JSON.stringify({ key, ...learnt }) + '\n');
    }
  }
  return path.join(i.dir, `${i.moduleName}.ko`);
}

/**
 * Where the link's compiled objects are kept in the release's object cache, one per module
 * name and step (not a kernel directory).
 */
const LINK_SLOT = '.rebootless-link';

/**
 * A link compile (livepatch.c, the `.mod.c`): its object from the build cache when the same
 * command compiled the same text before (rebuilding one patch), else compiled by `run` and
 * kept. The release's headers are the same for every build (`kernel verify` checks the tree).
 * A kept object's debug info names the folder of the build that compiled it.
 */
async function compileStep(cacheDir: string, k: ObjectKey, object: string, run: () => Promise<unknown>): Promise<void> {
  const kept = await cachedObject(cacheDir, k);
  if (kept) return fsp.writeFile(object, kept);
  await run();
  await storeObject(cacheDir, k, await fsp.readFile(object));
}

/** The common object copied from the one kept for the release, else compiled by `run` and kept. */
async function commonStep(recipeFile: string, key: string, dir: string, run: () => Promise<unknown>): Promise<void> {
  const kept = commonFileOf(recipeFile, key);
  if (await fsp.copyFile(kept, commonObject(dir)).then(() => true, () => false)) return;
  await run();
  await keepCommon(recipeFile, key, dir);
}

async function keepCommon(recipeFile: string, key: string, dir: string): Promise<void> {
  const kept = commonFileOf(recipeFile, key);
  const tmp = `${kept}.${process.pid}.tmp`;
  await fsp.copyFile(commonObject(dir), tmp);
  await fsp.rename(tmp, kept);
}

async function readRecipe(file: string, key: string): Promise<LinkRecipe | undefined> {
  const r = await fsp.readFile(file, 'utf8').then((t) => JSON.parse(t) as { key?: unknown; steps?: unknown; order?: unknown; common?: unknown }, () => undefined);
  if (r?.key !== key || !Array.isArray(r.steps) || !r.steps.every((s) => typeof s === 'string') || typeof r.order !== 'string') return undefined;
  return { steps: r.steps as string[], order: r.order, ...(typeof r.common === 'number' ? { common: r.common } : {}) };
}
