import { STB_LOCAL, STT_FILE, STT_FUNC, STT_OBJECT } from '../elf/constants.js';
import type { ElfSymbol } from '../elf/model.js';
import { byValue, symbolsOfName } from '../elf/symbol-order.js';

// Which of several same-named symbols of the running kernel a patch means:
// livepatch's sympos. 0 when the name is unique in the target object, else
// the 1-based position among the symbols of that name in kallsyms order
// (address order in vmlinux, symbol-table order in a module). For a local
// name that repeats, the FILE block of vmlinux's symbol table whose locals
// match the compiled object's tells which one is ours.

export interface FileBlock {
  file: string;
  /** The block's symbols, in table order. */
  symbols: ElfSymbol[];
  localNames: Set<string>;
}

const isCode = (s: ElfSymbol): boolean => s.type === STT_FUNC || s.type === STT_OBJECT;

/** FILE symbol → the locals after it, up to the next FILE symbol or the first global. */
export function fileBlocks(symbols: readonly ElfSymbol[]): FileBlock[] {
  const blocks: FileBlock[] = [];
  let cur: FileBlock | undefined;
  for (const s of symbols) {
    if (s.type === STT_FILE) {
      cur = { file: s.name, symbols: [], localNames: new Set() };
      blocks.push(cur);
    } else if (s.bind !== STB_LOCAL) {
      cur = undefined;
    } else if (cur && isCode(s)) {
      cur.symbols.push(s);
      cur.localNames.add(s.name);
    }
  }
  return blocks;
}

export interface BlockMatch {
  block: FileBlock;
  /** Share of the object's locals found in the block (1 = all). */
  score: number;
}

/**
 * The FILE block of `sourceBase` (e.g. `base.c`) holding the object's local
 * function and data names. Blocks of other files with the same base name
 * (drivers/base/base.c, fs/proc/base.c ...) are told apart by their locals.
 */
export function matchFileBlock(blocks: readonly FileBlock[], sourceBase: string, objectLocals: readonly string[]): BlockMatch | undefined {
  const wanted = [...new Set(objectLocals)];
  let best: BlockMatch | undefined;
  let tie = false;
  for (const block of blocks) {
    if (block.file !== sourceBase) continue;
    const hit = wanted.filter((n) => block.localNames.has(n)).length;
    const score = wanted.length ? hit / wanted.length : 0;
    if (!best || score > best.score) {
      best = { block, score };
      tie = false;
    } else if (score === best.score) tie = true;
  }
  if (!best || tie || best.score < 0.5) return undefined;
  return best;
}

export type SymposOrder = 'address' | 'table';

/** Symbols of a name in kallsyms order. */
export function sameNamed(symbols: readonly ElfSymbol[], name: string, order: SymposOrder): ElfSymbol[] {
  const same = symbolsOfName(symbols, name).filter(isCode);
  return order === 'address' ? same.sort(byValue) : same;
}

export type SymposResult = { sympos: number; symbol: ElfSymbol } | { error: 'missing' | 'ambiguous'; candidates: number };

/**
 * sympos of `name` in the target. `ours` narrows a repeated name to the
 * block (vmlinux) the compiled object matched; without it a repeated name is
 * ambiguous.
 */
export function findSympos(symbols: readonly ElfSymbol[], name: string, order: SymposOrder, ours?: FileBlock): SymposResult {
  const same = sameNamed(symbols, name, order);
  if (same.length === 0) return { error: 'missing', candidates: 0 };
  // a unique name in another file's block is another file's static, not ours
  if (ours && !same.some((s) => ours.symbols.includes(s))) return { error: 'missing', candidates: same.length };
  if (same.length === 1) return { sympos: 0, symbol: same[0] as ElfSymbol };
  const mine = ours ? same.filter((s) => ours.symbols.includes(s)) : [];
  if (mine.length !== 1) return { error: 'ambiguous', candidates: same.length };
  const symbol = mine[0] as ElfSymbol;
  return { sympos: same.indexOf(symbol) + 1, symbol };
}
