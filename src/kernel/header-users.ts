import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { ElfDiagnostics } from '../elf/diagnostics.js';
import { lineSectionsOf, lineTableUnits } from '../elf/dwarf-lines.js';
import { readElfSymbols } from '../elf/files.js';
import { writeFileAtomic } from '../util/fs.js';
import type { KernelWorkspace } from './manifest.js';

// Which of vmlinux's units use a file of the tree (a header): those whose
// DWARF line table names it (elf/dwarf-lines.ts), read from the release's
// debug vmlinux. With gcc's DWARF 5 a unit's table names every header whose
// functions, types or declarations its code or debug info uses; a header
// that only defines macros the unit expands is not named. Modules' units are
// not covered (their debug files are not part of a fetched release).

export interface FileUsers {
  /** The file as asked, relative to the tree. */
  file: string;
  /** vmlinux's units (sources relative to the tree) whose line table names it, sorted. */
  units: string[];
}

export interface HeaderUsersReport {
  /** vmlinux's units with a line table. */
  units: number;
  /** False when vmlinux has no .debug_line (built without debug info): nothing can be said. */
  lineTables: boolean;
  files: FileUsers[];
}

const DEBUG_SECTIONS = new Set(['.debug_line', '.debug_line_str', '.debug_str']);

/** `fs/proc/./internal.h`, `/tree/fs/proc/internal.h` → `fs/proc/internal.h`. */
export function treeRelative(file: string, tree: string): string {
  const abs = path.posix.isAbsolute(file) ? path.posix.relative(tree, file) : file;
  return path.posix.normalize(abs).replace(/^\.\//, '');
}

/** vmlinux's units, each with the files its line table names; null when vmlinux has no line tables. */
async function readLineTables(vmlinux: string): Promise<{ unit: string; files: string[] }[] | null> {
  const elf = await readElfSymbols(vmlinux, { include: (s) => DEBUG_SECTIONS.has(s.name) });
  const sections = lineSectionsOf(elf);
  return sections ? lineTableUnits(sections, new ElfDiagnostics(vmlinux)) : null;
}

export async function headerUsers(ws: Pick<KernelWorkspace, 'vmlinux' | 'sourceTree'>, files: readonly string[]): Promise<HeaderUsersReport> {
  const units = await readLineTables(ws.vmlinux);
  const asked = files.map((f) => treeRelative(f, ws.sourceTree));
  if (!units) return { units: 0, lineTables: false, files: asked.map((file) => ({ file, units: [] })) };
  const users = new Map(asked.map((f) => [f, new Set<string>()]));
  for (const u of units) {
    const unit = inTree(u.unit, ws.sourceTree);
    for (const f of new Set(u.files.map((x) => path.posix.normalize(x)))) users.get(f)?.add(unit);
  }
  return { units: units.length, lineTables: true, files: asked.map((file) => ({ file, units: [...(users.get(file) ?? [])].sort() })) };
}

/**
 * A unit's source as the tree names it: an absolute name from the release's
 * own build folder (`/build/…/linux-6.1.192/arch/x86/entry/entry_64.S`) is
 * cut to the longest tail that exists in the tree.
 */
function inTree(unit: string, tree: string): string {
  const rel = treeRelative(unit, tree);
  if (!rel.startsWith('/') && !rel.startsWith('../')) return rel;
  const parts = path.posix.normalize(unit).split('/').filter(Boolean);
  for (let k = 0; k < parts.length - 1; k++) {
    const tail = parts.slice(k).join('/');
    if (existsSync(path.join(tree, tail))) return tail;
  }
  return rel;
}

/**
 * The sources of vmlinux's units (relative to the tree), from its line
 * tables; kept in the release's build cache (`vmlinux-units.json`, keyed by
 * vmlinux's size and time) once read.
 */
export async function vmlinuxUnits(ws: Pick<KernelWorkspace, 'vmlinux' | 'sourceTree'>, cacheDir: string | undefined): Promise<Set<string>> {
  const st = await fsp.stat(ws.vmlinux);
  const key = `${st.size}:${st.mtimeMs}`;
  const file = cacheDir ? path.join(cacheDir, 'vmlinux-units.json') : undefined;
  const cached = file ? await fsp.readFile(file, 'utf8').then((t) => JSON.parse(t) as { key?: unknown; units?: unknown }, () => undefined) : undefined;
  if (cached?.key === key && Array.isArray(cached.units)) return new Set(cached.units as string[]);
  const units = ((await readLineTables(ws.vmlinux)) ?? []).map((u) => inTree(u.unit, ws.sourceTree));
  if (file) {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ key, units }) + '\n');
  }
  return new Set(units);
}
