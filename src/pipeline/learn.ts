import path from 'node:path';
import { learnKbuildEnvironment, workspaceCompiler } from '../kbuild/compile.js';
import { prepareLinkRecipe } from '../kbuild/link.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { createWorkDir } from '../util/work-dir.js';
import { removePath } from '../util/fs.js';

// What every build of a release starts from, learnt once when the release is
// fetched instead of by its first build: the top Makefile's environment (each
// unit's dry run descends from it) and the link recipe (a kbuild link of an
// empty module). Both are kept in the release's build cache; a release that
// has them already costs two small reads. What cannot be learnt here is
// learnt (or fails, with the reason) by the build that needs it: the
// answer is what went wrong, as text.

export async function learnRelease(ws: KernelWorkspace, signal?: AbortSignal): Promise<string[]> {
  const compiler = workspaceCompiler(ws, signal);
  const work = await createWorkDir('rebootless-build-');
  try {
    const results = await Promise.allSettled([learnKbuildEnvironment(compiler), prepareLinkRecipe(compiler, path.join(work, 'template'))]);
    const [environment, recipe] = results;
    const problems: string[] = [];
    if (environment?.status === 'rejected') problems.push(`kbuild's environment: ${reason(environment.reason)}`);
    if (recipe?.status === 'rejected') problems.push(`the link recipe: ${reason(recipe.reason)}`);
    return problems;
  } finally {
    await removePath(work);
  }
}

const reason = (e: unknown): string => (e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e));
