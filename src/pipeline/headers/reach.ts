import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { isRebootlessError, type RebootlessError } from '../../errors/index.js';
import { runCommand } from '../../util/process.js';
import { splitItems, tokens, type CItem } from './c-items.js';
import { blockOf, namesOf, type LayoutChange } from './header-changes.js';

// Which sources can compile differently when some names' definitions change
// in headers: every .c file of the tree that mentions one of them, and,
// through the headers that mention one, the names defined with it (a macro
// or inline function using a changed one changes too), until nothing new is
// reached. Text search over the tree (comments and strings included) only
// ever finds more than the compiler would use, never less. Only folders
// that hold a built unit are searched, with the global include folders. A record whose
// body uses a changed macro or type may change its layout: reported.

export interface HeaderReach {
  /** Every name reached, the changed ones first. */
  names: string[];
  /** The tree's .c files mentioning one of them, sorted. */
  sources: string[];
  layouts: (LayoutChange & { header: string })[];
  rounds: number;
  /** False when the search stopped at MAX_NAMES. */
  complete: boolean;
}

/**
 * The folders to search: the global include folders and those holding a
 * built unit or a module (`dirs`), each once (a folder inside another is
 * searched with it).
 */
export function searchRoots(dirs: Iterable<string>): string[] {
  const all = [...new Set(['include', 'arch/x86/include', ...dirs])].filter((d) => d && d !== '.').sort();
  return all.filter((d) => !all.some((o) => o !== d && d.startsWith(`${o}/`)));
}

/** `name` used in a record (a type, a size, a macro call), not only as a member's own name (`wait_queue_head_t wait_event;`). */
function usedInRecord(it: CItem, name: string): boolean {
  const toks = tokens(it.text);
  return toks.some((t, k) => t === name && !(toks[k - 1] === '.' || toks[k - 1] === '->') && !/^[;,[:=)]$/.test(toks[k + 1] ?? ''));
}

/** Files under the tree's kernel folders that mention any of `names` as a whole word. */
async function filesMentioning(tree: string, roots: readonly string[], names: readonly string[], signal?: AbortSignal): Promise<string[]> {
  if (!names.length) return [];
  const args = ['-rlwF', '--include=*.c', '--include=*.h', '-f', '-', ...roots];
  const { stdout } = await runCommand('grep', args, { cwd: tree, input: names.join('\n') + '\n', ...(signal ? { signal } : {}) }).catch((e: unknown) => {
    // grep's exit code 1: nothing found
    if (isRebootlessError(e) && e.code === 'COMMAND_FAILED' && (e as RebootlessError<'COMMAND_FAILED'>).data.exitCode === 1) return { stdout: '' };
    throw e;
  });
  return stdout.split('\n').filter(Boolean);
}

/** Past this many names the change reaches too much of the kernel to follow (headerReach stops: `complete` false). */
export const MAX_NAMES = 1000;

/**
 * What changed names reach in the tree: `patched` holds the patched text of
 * each changed header (its definitions are read from there), `kinds` which
 * changed names are macros or types (a record using one may change layout).
 */
export async function headerReach(
  tree: string,
  roots: readonly string[],
  patched: ReadonlyMap<string, string>,
  changed: ReadonlySet<string>,
  layoutNames: ReadonlySet<string>,
  options: { signal?: AbortSignal; maxRounds?: number } = {},
): Promise<HeaderReach> {
  const { signal, maxRounds = Number.POSITIVE_INFINITY } = options;
  roots = roots.filter((r) => existsSync(path.join(tree, r)));
  const names = new Set(changed);
  const layoutRelevant = new Set(layoutNames);
  const sources = new Set<string>();
  const layouts: HeaderReach['layouts'] = [];
  const itemsOf = new Map<string, CItem[]>();
  let frontier = [...changed];
  let rounds = 0;
  while (frontier.length && names.size <= MAX_NAMES && rounds < maxRounds) {
    rounds++;
    const hit = new Set(frontier);
    const files = new Set(await filesMentioning(tree, roots, frontier, signal));
    for (const h of patched.keys()) files.add(h);
    const next: string[] = [];
    for (const f of [...files].sort()) {
      if (names.size > MAX_NAMES) break;
      if (f.endsWith('.c')) {
        sources.add(f);
        continue;
      }
      let items = itemsOf.get(f);
      if (!items) {
        items = splitItems(patched.get(f) ?? (await fsp.readFile(path.join(tree, f), 'utf8')));
        itemsOf.set(f, items);
      }
      for (const it of items) {
        const uses = [...it.identifiers].filter((n) => hit.has(n));
        if (!uses.length) continue;
        if (it.kind === 'record') {
          const used = uses.find((n) => layoutRelevant.has(n) && usedInRecord(it, n));
          if (used) layouts.push({ header: f, record: `${it.tag ?? 'struct'} ${it.name ?? '(anonymous)'}`, member: `uses ${used}`, line: it.start });
          continue;
        }
        // a conditional using a changed name may switch any definition of its block, and an item the
        // splitter cannot name cannot be followed by name: then every definition of the header counts
        const named = namesOf(it);
        const follow = it.kind === 'conditional' ? blockOf(items, it) : !named.length && it.kind !== 'include' ? items : [it];
        for (const one of follow) {
          for (const n of namesOf(one)) {
            if (names.has(n)) continue;
            names.add(n);
            next.push(n);
            if (one.kind === 'macro' || one.text.startsWith('typedef')) layoutRelevant.add(n);
          }
        }
      }
    }
    frontier = next;
  }
  return { names: [...names], sources: [...sources].sort(), layouts, rounds, complete: frontier.length === 0 && names.size <= MAX_NAMES };
}
