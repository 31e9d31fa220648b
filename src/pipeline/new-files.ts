import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { builtObjects, objectFor, type UnitCompiler, type UnitRecord } from '../kbuild/compile.js';
import { commandsOfRecord } from '../kbuild/unit-command.js';
import { parseConfig } from '../kernel/config.js';
import type { PatchedSource } from './types.js';

// New `.c` files: a diff may add one when it also adds its object to its
// directory's Makefile (or Kbuild), and nothing else there. Which list it
// joins says where its code goes: `obj-y` (vmlinux) or an existing
// composite object (`proc-y`, `binfmt_misc-objs`: vmlinux or that module),
// with CONFIG_ options read from the release's .config. kbuild's command for
// it is a sibling's on the same list (the most common one), with the names
// changed: the same flags, the same owner. Its functions are new code in the
// patch module, reached from the patched functions that call them.

export const isMakefile = (p: string): boolean => /^(Makefile|Kbuild)$/.test(path.posix.basename(p));

export interface NewUnit {
  source: string;
  /** The Makefile list it joins, CONFIG_ options expanded (`obj-y`, `proc-y`). */
  list: string;
  makefile: string;
  /** Objects of the release on the same list (tree-relative), in the Makefile's order. */
  siblings: string[];
}

interface Assignment {
  lhs: string;
  words: string[];
}

/** A Makefile's logical lines (continuations joined, comments dropped, blanks collapsed). */
function logicalLines(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '');
}

const ASSIGN = /^([^\s:+?=]+)\s*(\+=|:=|\?=|=)\s*(.*)$/;

function assignments(lines: readonly string[]): Assignment[] {
  return lines.flatMap((l) => {
    const m = ASSIGN.exec(l);
    return m ? [{ lhs: m[1] as string, words: (m[3] as string).split(' ').filter(Boolean) }] : [];
  });
}

/** The list name with the release's CONFIG_ options put in (`obj-$(CONFIG_X)` → `obj-y`); `-objs` lists are `-y` lists. */
function expandList(lhs: string, config: ReadonlyMap<string, string>): string | undefined {
  const expanded = lhs.replace(/\$[({](CONFIG_[A-Za-z0-9_]+)[)}]/g, (_, name: string) => {
    const v = config.get(name);
    return v === 'y' || v === 'm' ? v : '';
  });
  if (expanded.includes('$')) return undefined;
  return expanded.replace(/-objs$/, '-y');
}

/** The created `.c` files and how the diff's Makefile changes wire each into the release's build. */
export async function wireNewFiles(files: readonly PatchedSource[], tree: string, patchLabel: string): Promise<NewUnit[]> {
  const created = files.filter((f) => f.created && f.path.endsWith('.c'));
  const makefiles = files.filter((f) => isMakefile(f.path));
  if (!created.length && !makefiles.length) return [];
  const config = parseConfig(await fsp.readFile(path.join(tree, '.config'), 'utf8').catch(() => ''));
  const units: NewUnit[] = [];
  for (const mk of makefiles) {
    const dir = path.posix.dirname(mk.path);
    const mine = created.filter((f) => path.posix.dirname(f.path) === dir || f.path.startsWith(`${dir}/`));
    const added = new Set(mine.map((f) => path.posix.relative(dir, objectFor(f.path))));
    const strip = (lines: string[]): string[] =>
      lines.map((l) => l.split(' ').filter((w) => !added.has(w)).join(' ')).filter((l) => !/^[^\s:+?=]+ ?(\+=|:=|\?=|=)$/.test(l));
    const before = logicalLines(mk.orig);
    const after = logicalLines(mk.patched);
    if (strip(after).join('\n') !== strip(before).join('\n')) {
      throw new RebootlessError('PATCH_MAKEFILE_CHANGE', { file: patchLabel, path: mk.path, objects: [...added] });
    }
    const origLists = assignments(before);
    for (const a of assignments(after)) {
      for (const w of a.words.filter((x) => added.has(x))) {
        const source = path.posix.join(dir, w.replace(/\.o$/, '.c'));
        const list = expandList(a.lhs, config);
        const why = listProblem(a.lhs, list);
        if (why) throw new RebootlessError('PATCH_NEW_FILE_LIST', { file: patchLabel, path: source, makefile: mk.path, list: a.lhs, why });
        const siblings = origLists
          .filter((o) => expandList(o.lhs, config) === list)
          .flatMap((o) => o.words.filter((x) => x.endsWith('.o')).map((x) => path.posix.join(dir, x)));
        units.push({ source, list: list as string, makefile: mk.path, siblings });
      }
    }
  }
  for (const f of created) {
    if (!units.some((u) => u.source === f.path)) throw new RebootlessError('PATCH_NEW_FILE_UNWIRED', { file: patchLabel, path: f.path });
  }
  return units;
}

/** Why a list cannot take a new object of the patch (undefined: it can). */
function listProblem(lhs: string, list: string | undefined): string | undefined {
  if (list === undefined) return `its name (${lhs}) depends on more than CONFIG_ options`;
  if (list === 'obj-m') return 'it would be a new module, which a live patch cannot add (put the code in an existing object)';
  if (list.endsWith('-') || list.endsWith('-n')) return "the release's configuration does not build that list";
  if (!list.endsWith('-y')) return `kbuild builds ${list} as something other than an object of vmlinux or of a module`;
  if (/^(lib|subdir|always|extra|targets|hostprogs|userprogs)-y$/.test(list)) return `${list} is not linked into vmlinux or a module`;
  return undefined;
}

/**
 * kbuild's command for each new unit: a sibling's record on the same list,
 * the most common one among those the release builds, with its names
 * changed to the new file's.
 */
export async function newUnitRecords(c: UnitCompiler, units: readonly NewUnit[]): Promise<Map<string, UnitRecord>> {
  const out = new Map<string, UnitRecord>();
  for (const u of units) {
    const dir = path.posix.dirname(u.makefile);
    const built = await builtObjects(c, [dir], u.siblings);
    // records with the sibling's own name taken out: the flags every object of the list gets
    const shapes = [...built].map(([object, r]) => ({ object, record: r.record, shape: renameRecord(r.record, object, 'rebootless@new.o', u.list) }));
    const counts = new Map<string, number>();
    for (const s of shapes) counts.set(s.shape, (counts.get(s.shape) ?? 0) + 1);
    const best = shapes.sort((a, b) => (counts.get(b.shape) ?? 0) - (counts.get(a.shape) ?? 0))[0];
    if (!best) throw new RebootlessError('PATCH_NEW_FILE_NOT_BUILT', { path: u.source, list: u.list, makefile: u.makefile });
    const object = objectFor(u.source);
    const record = renameRecord(best.record, best.object, object, u.list);
    out.set(u.source, { record, commands: commandsOfRecord(record, object) });
  }
  return out;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A sibling's record made the record of `object`: paths, the dependency file and the names kbuild passes in. */
export function renameRecord(record: string, sibling: string, object: string, list: string): string {
  const dir = path.posix.dirname(sibling);
  const from = path.posix.basename(sibling, '.o');
  const to = path.posix.basename(object, '.o');
  const stem = path.posix.join(dir, from);
  let r = record
    .replace(new RegExp(`(^|[\\s'"=,])${escape(stem)}\\.([co])(?=$|[\\s'",;])`, 'g'), (_, pre: string, ext: string) => `${pre}${path.posix.join(dir, to)}.${ext}`)
    .replace(new RegExp(`${escape(path.posix.join(dir, `.${from}.o.d`))}`, 'g'), path.posix.join(dir, `.${to}.o.d`))
    .replace(`-DKBUILD_BASENAME='"${from}"'`, `-DKBUILD_BASENAME='"${to.replace(/-/g, '_')}"'`);
  // an object on obj-y is its own "module": kbuild names it after its file
  if (list === 'obj-y') {
    const mod = (n: string): string => n.replace(/-/g, '_');
    r = r
      .replace(`-DKBUILD_MODFILE='"${stem}"'`, `-DKBUILD_MODFILE='"${path.posix.join(dir, to)}"'`)
      .replace(`-DKBUILD_MODNAME='"${mod(from)}"'`, `-DKBUILD_MODNAME='"${mod(to)}"'`)
      .replace(`-D__KBUILD_MODNAME=kmod_${mod(from)}`, `-D__KBUILD_MODNAME=kmod_${mod(to)}`);
  }
  return r;
}
