import { RebootlessError } from '../errors/index.js';
import { shellWords } from '../util/shell.js';

// The exact command kbuild compiles one translation unit with: the text it
// records as `cmd_<object> := …` in the object's `.cmd` file (and compares to
// decide whether to rebuild). We learn it without writing anything in the
// tree: `make -n` (print, do not run) of the one object, with the `prepare`
// target treated as done (`-o prepare`; the prepared tree has it), and read
// the record from the line that would have written the `.cmd` file
// (`scripts/basic/fixdep <dep> <object> '<record>' > <cmd file>`). Replaying
// it is then kbuild's compile, minus make.

/** Arguments of the dry run of `objects` (after `-C tree` and the kbuild variables). */
export const dryRunArgs = (objects: readonly string[], kcflags: string): string[] => ['-n', '--no-print-directory', '-o', 'prepare', `KCFLAGS=${kcflags}`, ...objects];

/** Every record a dry run's output would write, by object (the first one): one pass over the output, for many objects. */
export function recordsFromDryRun(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of output.split('\n')) {
    let at = line.indexOf('scripts/basic/fixdep ');
    while (at >= 0) {
      const words = shellWords(line.slice(at), 4).map((t) => ('word' in t ? t.word : undefined));
      if (words.length === 4 && words[2] !== undefined && words[3] !== undefined && !out.has(words[2])) out.set(words[2], words[3]);
      at = line.indexOf('scripts/basic/fixdep ', at + 1);
    }
  }
  return out;
}

/** The record of `object` in the output of `make -n <object>`, or undefined when make would not compile it. */
export function recordFromDryRun(output: string, object: string): string | undefined {
  return recordsFromDryRun(output).get(object);
}

/** A record split into the commands it runs in order (`;` between them), each an argv. */
export function commandsOfRecord(record: string, object: string): string[][] {
  let tokens;
  try {
    tokens = shellWords(record);
  } catch (e) {
    throw unsupported(object, record, (e as Error).message);
  }
  const commands: string[][] = [[]];
  for (const t of tokens) {
    if ('op' in t) {
      if (t.op !== ';') throw unsupported(object, record, `operator '${t.op}'`);
      commands.push([]);
    } else (commands[commands.length - 1] as string[]).push(t.word);
  }
  return commands.filter((c) => c.length > 0);
}

const unsupported = (object: string, record: string, detail: string): RebootlessError =>
  new RebootlessError('KBUILD_RECORD_UNSUPPORTED', { object, record: record.length > 400 ? `${record.slice(0, 400)}…` : record, detail });

export interface ReplayPaths {
  /** The unit's source, relative to the tree (`fs/proc/version.c`). */
  source: string;
  /** The object kbuild would write, relative to the tree (`fs/proc/version.o`). */
  object: string;
  /** Where the source to compile is: `<root>/<source>` (absolute). */
  overlayRoot: string;
  /** The object to write (absolute). */
  output: string;
  /** The directory for the dependency file (absolute). */
  depDir: string;
  /** Searched for `#include <...>` after every directory of the command (`-idirafter`): it can add headers, never shadow one. */
  afterIncludes?: readonly string[];
  /** Patched headers written at `<overlayRoot>/<path>` (tree-relative paths): they shadow the tree's. */
  headers?: readonly string[];
}

/**
 * The record's commands rewritten to compile `<overlayRoot>/<source>` into
 * `output`, run with the tree as working directory: quoted includes of the
 * source's directory still come from the tree (`-iquote`), `__FILE__` and
 * debug names say the tree's relative path (`-ffile-prefix-map`), and
 * nothing is written in the tree. The first command must be the compile;
 * each one after it must work on the object (objtool), else it is refused.
 */
export function replayCommands(commands: readonly string[][], p: ReplayPaths, record: string): string[][] {
  const [compile, ...after] = commands;
  if (!compile) throw unsupported(p.object, record, 'empty record');
  const o = compile.indexOf('-o');
  const s = compile.lastIndexOf(p.source);
  if (!compile.includes('-c') || o < 0 || compile[o + 1] !== p.object || s < 0) {
    throw unsupported(p.object, record, `the first command does not compile ${p.source} into ${p.object} with -c -o`);
  }
  const dir = p.source.includes('/') ? p.source.slice(0, p.source.lastIndexOf('/')) : '.';
  const cc = compile.map((w, i) => {
    if (i === o + 1) return p.output;
    if (w.startsWith('-Wp,-MMD,') || w.startsWith('-Wp,-MD,')) return `${w.slice(0, w.indexOf(',', 4) + 1)}${p.depDir}/${w.slice(w.lastIndexOf('/') + 1).replace(/^-Wp,-MM?D,/, '')}`;
    return w;
  });
  cc.splice(s, 1, '-iquote', dir, ...(p.afterIncludes ?? []).flatMap((d) => ['-idirafter', d]), `-ffile-prefix-map=${p.overlayRoot}/=`, `${p.overlayRoot}/${p.source}`);
  const rest = after.map((c) => {
    if (!c.includes(p.object)) throw unsupported(p.object, record, `a step that does not work on the object: ${c.slice(0, 3).join(' ')}…`);
    if (c.includes(p.source)) throw unsupported(p.object, record, `a step that reads the source again: ${c.slice(0, 3).join(' ')}…`);
    return c.map((w) => (w === p.object ? p.output : w));
  });
  return [p.headers?.length ? shadowHeaders(cc, p.overlayRoot, p.headers) : cc, ...rest];
}

const treePath = (d: string): string => d.replace(/^(\.\/)+/, '').replace(/\/+$/, '') || '.';

/**
 * Include options rewritten so that patched headers win: before each include
 * directory that holds one (`-I./include`), the same directory of the overlay;
 * a forced `-include` of one names the overlay's copy.
 */
export function shadowHeaders(cc: readonly string[], overlayRoot: string, headers: readonly string[]): string[] {
  const holds = (d: string): boolean => {
    const dir = treePath(d);
    return !d.startsWith('/') && headers.some((h) => dir === '.' || h.startsWith(`${dir}/`));
  };
  const out: string[] = [];
  for (let i = 0; i < cc.length; i++) {
    const w = cc[i] as string;
    const joined = /^-(I|iquote)(.+)$/.exec(w);
    if (joined && holds(joined[2] as string)) out.push(`-${joined[1] as string}${overlayRoot}/${treePath(joined[2] as string)}`);
    const next = cc[i + 1];
    if ((w === '-I' || w === '-iquote') && next !== undefined && holds(next)) out.push(w, `${overlayRoot}/${treePath(next)}`);
    if (w === '-include' && next !== undefined && headers.includes(treePath(next))) {
      out.push(w, `${overlayRoot}/${treePath(next)}`);
      i++;
      continue;
    }
    out.push(w);
  }
  return out;
}
