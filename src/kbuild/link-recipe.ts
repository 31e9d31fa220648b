import { promises as fsp } from 'node:fs';
import path from 'node:path';

// The commands kbuild runs to link an external module, learnt from the
// records (`.<target>.cmd`) a real kbuild link leaves in the module's
// directory, and replayed by later builds of the release without make: the
// same programs with the same flags, in the same order, on the same inputs.
// The directory and the module name are the only things that change from
// one build to the next; they become placeholders.

/** The targets whose records make up the link, in the order kbuild builds them. */
const STEPS = (name: string): string[] => ['livepatch.o', `${name}.o`, 'Module.symvers', `${name}.mod.o`, `${name}.ko`];

/** Since Linux 6.11 each .ko also links this object, compiled once per module directory before the .ko. */
const COMMON = '.module-common.o';

export const DIR_MARK = '@REBOOTLESS_MODULE_DIR@';
export const NAME_MARK = '@REBOOTLESS_MODULE_NAME@';

export interface LinkRecipe {
  /** Shell command lines (run by sh in the tree, as kbuild runs them), with DIR_MARK and NAME_MARK. */
  steps: string[];
  /**
   * modules.order as kbuild wrote it, with the marks: its lines name the
   * `.ko` until Linux 6.1 and the `.o` since 6.2, and modpost reads it.
   */
  order: string;
  /**
   * The index of the step compiling `.module-common.o` (Linux 6.11 and
   * later): the same bytes for every module of the release, so the object
   * is kept with the recipe and copied instead of compiled again.
   */
  common?: number;
}

/**
 * A `.cmd` file's record of `target`, `cmd_<target> := <command>` (until
 * Linux 6.2) or `savedcmd_<target> := <command>` (since 6.3), make's escapes
 * undone (`$$` → `$`, `$(pound)` → `#`).
 */
export function commandOfCmdFile(text: string, target: string): string | undefined {
  for (const prefix of [`cmd_${target} := `, `savedcmd_${target} := `]) {
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    if (line !== undefined) return line.slice(prefix.length).replaceAll('$(pound)', '#').replaceAll('$$', '$');
  }
  return undefined;
}

/**
 * Learns the recipe from module `name` just linked by kbuild in `dir`;
 * undefined when a record is missing, or when modpost would read more of
 * the records than the command (`CONFIG_MODULE_SRCVERSION_ALL` hashes every
 * source file they list): then every link runs kbuild.
 */
export async function learnLinkRecipe(dir: string, name: string, config: string): Promise<LinkRecipe | undefined> {
  if (/^CONFIG_MODULE_SRCVERSION_ALL=y$/m.test(config)) return undefined;
  const steps: string[] = [];
  const targets = STEPS(name);
  const common = (await fsp.access(path.join(dir, `.${COMMON}.cmd`)).then(() => true, () => false)) ? targets.length - 1 : undefined;
  if (common !== undefined) targets.splice(common, 0, COMMON);
  for (const target of targets) {
    const abs = path.join(dir, target);
    const text = await fsp.readFile(path.join(dir, `.${target}.cmd`), 'utf8').catch(() => '');
    const cmd = commandOfCmdFile(text, abs);
    if (cmd === undefined) return undefined;
    steps.push(cmd.replaceAll(dir, DIR_MARK).replaceAll(name, NAME_MARK));
  }
  const written = await fsp.readFile(path.join(dir, 'modules.order'), 'utf8').catch(() => undefined);
  if (written === undefined) return undefined;
  const order = written.replaceAll(dir, DIR_MARK).replaceAll(name, NAME_MARK);
  // a recipe that still names the old directory or module could write there
  if ([...steps, order].some((s) => s.includes(dir) || s.includes(name))) return undefined;
  return { steps, order, ...(common !== undefined ? { common } : {}) };
}

/**
 * The recipe's compile steps, by index: livepatch.c (the first step) and the
 * `.mod.c` modpost writes (the fourth), each with its source and object in `dir`.
 */
export function compileSteps(dir: string, name: string): { step: number; source: string; object: string }[] {
  return [
    { step: 0, source: path.join(dir, 'livepatch.c'), object: path.join(dir, 'livepatch.o') },
    { step: 3, source: path.join(dir, `${name}.mod.c`), object: path.join(dir, `${name}.mod.o`) },
  ];
}

/** Where a step writes `.module-common.o` in `dir`. */
export const commonObject = (dir: string): string => path.join(dir, COMMON);

const fill = (text: string, dir: string, name: string): string => text.replaceAll(DIR_MARK, dir).replaceAll(NAME_MARK, name);

/** The recipe's command lines for module `name` in `dir`. */
export function recipeCommands(r: LinkRecipe, dir: string, name: string): string[] {
  return r.steps.map((s) => fill(s, dir, name));
}

/** The inputs kbuild writes itself before the link steps: the list of the module's objects, and modules.order. */
export function linkInputs(r: LinkRecipe, dir: string, name: string, parts: readonly string[]): Record<string, string> {
  return {
    [`${name}.mod`]: parts.map((p) => `${dir}/${p}\n`).join(''),
    'modules.order': fill(r.order, dir, name),
  };
}

/**
 * The record kbuild leaves for livepatch.o once compiled, which modpost
 * reads (since 6.1 the CRCs of an object's exports are appended to it; the
 * module exports nothing, so the command line is all there is to say).
 */
export function compiledRecord(r: LinkRecipe, dir: string, name: string): { file: string; text: string } {
  const cmd = recipeCommands(r, dir, name)[0] as string;
  return { file: '.livepatch.o.cmd', text: `cmd_${dir}/livepatch.o := ${cmd.replaceAll('$', '$$$$').replaceAll('#', '$(pound)')}\n` };
}
