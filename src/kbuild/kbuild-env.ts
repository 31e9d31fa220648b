import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { runInToolchain, type Toolchain } from '../kernel/toolchain.js';
import { kbuildVariables } from '../kernel/kbuild-vars.js';
import { writeFileAtomic } from '../util/fs.js';
import { shellQuote } from '../util/shell.js';

// Most of a dry run's time (2–3 s) is the top Makefile working out the
// flags (dozens of compiler probes); the descent to one object after that
// takes a tenth of it. The top Makefile hands its work to the descent as
// exported variables, so rebootless asks it once per release for exactly
// that environment (a recipe that prints it, run the way the descent is)
// and later dry runs start the descent itself, as the top Makefile would:
// `make -f ./scripts/Makefile.build obj=. need-builtin=1 need-modorder=1 ./<object>…`.
// When that yields no record, the full dry run is used.

export interface KbuildEnvTarget {
  tree: string;
  cc: string;
  release: string;
  toolchain: Toolchain;
  signal?: AbortSignal;
}

const RECIPE_TARGET = 'rebootless-print-environment';

/** The environment kbuild's top Makefile gives the descent, learnt by printing it from a recipe (one make run, writes only `scratch`). */
export async function captureKbuildEnvironment(t: KbuildEnvTarget, kcflags: string, scratch: string): Promise<Record<string, string>> {
  await fsp.mkdir(scratch, { recursive: true });
  const makefile = path.join(scratch, 'print-environment.mk');
  const out = path.join(scratch, 'environment');
  // the path quoted for the recipe's shell, and its `$` kept from make
  await fsp.writeFile(makefile, `${RECIPE_TARGET}:\n\t@env -0 > ${shellQuote(out).replaceAll('$', '$$$$')}\n`);
  await runInToolchain(t.toolchain, 'make', ['-C', t.tree, '--no-print-directory', '-o', 'prepare', '-f', 'Makefile', '-f', makefile, ...kbuildVariables(t), `KCFLAGS=${kcflags}`, RECIPE_TARGET], {
    cwd: t.tree,
    ...(t.signal ? { signal: t.signal } : {}),
  });
  const env: Record<string, string> = {};
  for (const entry of (await fsp.readFile(out, 'utf8')).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  if (!env.MAKEFLAGS || !env.KBUILD_CFLAGS) throw new Error(`kbuild's top Makefile exported no MAKEFLAGS/KBUILD_CFLAGS (${Object.keys(env).length} variables)`);
  return env;
}

/** The descent's dry run of `objects`: program, arguments and the whole environment (nothing inherited). */
export function descentDryRun(env: Record<string, string>, objects: readonly string[]): { args: string[]; env: Record<string, string | undefined> } {
  // MAKEFLAGS starts with the single-letter flags (`rR`): add n, as `make -n` does
  const flags = env.MAKEFLAGS as string;
  const makeflags = /^[A-Za-z]/.test(flags) ? `n${flags}` : `n ${flags}`;
  const clean: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) clean[k] = undefined;
  return {
    args: ['-f', './scripts/Makefile.build', 'obj=.', 'need-builtin=1', 'need-modorder=1', ...objects.map((o) => `./${o}`)],
    env: { ...clean, ...env, MAKEFLAGS: makeflags },
  };
}

/** The descent's dry run of directory `dir` (every object the configuration builds there, in vmlinux or a module). */
export function directoryDryRun(env: Record<string, string>, dir: string): { args: string[]; env: Record<string, string | undefined> } {
  const run = descentDryRun(env, []);
  // the top Makefile exports these only for the goals that build them (`all`, `modules`)
  return { args: ['-f', './scripts/Makefile.build', `obj=${dir}`, 'need-builtin=1', 'need-modorder=1'], env: { ...run.env, KBUILD_BUILTIN: '1', KBUILD_MODULES: '1' } };
}

/** The release's kbuild environment from the build cache, or captured now (and cached). */
export async function kbuildEnvironment(t: KbuildEnvTarget, kcflags: string, cacheDir: string, key: string): Promise<Record<string, string>> {
  const file = path.join(cacheDir, 'kbuild-environment.json');
  const cached = await fsp.readFile(file, 'utf8').then((s) => JSON.parse(s) as { key?: unknown; env?: unknown }, () => undefined);
  if (cached?.key === key && typeof cached.env === 'object' && cached.env !== null) return cached.env as Record<string, string>;
  const scratch = path.join(cacheDir, `.environment-${process.pid}`);
  try {
    const env = await captureKbuildEnvironment(t, kcflags, scratch);
    await writeFileAtomic(file, JSON.stringify({ key, env }) + '\n');
    return env;
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}
