import { STB_LOCAL, STT_OBJECT } from '../elf/constants.js';
import type { ElfSymbol } from '../elf/model.js';

// Names the compiler makes, and statics the kernel's macros make.

const UNIQUE_ID = '__UNIQUE_ID_';

/**
 * A name with compiler numbering removed: `foo.constprop.3.isra.0` →
 * `foo.constprop.N.isra.N`, `count.12` → `count.N`, `__UNIQUE_ID_ddebug451` →
 * `__UNIQUE_ID_ddebugN`, `__UNIQUE_ID_hit3.0` → `__UNIQUE_ID_hitN.N`. Two
 * symbols with the same shape are candidate twins.
 */
export function nameShape(name: string): string {
  if (!name.includes('.') && !name.startsWith(UNIQUE_ID)) return name; // most names: nothing to remove
  const [head = '', ...rest] = name.split('.');
  return [head.replace(/^(__UNIQUE_ID_.*?)\d+$/, '$1N'), ...rest.map((c) => (/^\d+$/.test(c) ? 'N' : c))].join('.');
}

/** The source-level name: `foo.constprop.0` → `foo`, `count.12` → `count`, `__UNIQUE_ID_ddebug1130.186` → `__UNIQUE_ID_ddebug`. */
export function baseName(name: string): string {
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  return head.startsWith(UNIQUE_ID) ? head.replace(/^(__UNIQUE_ID_.*?)\d+$/, '$1') : head;
}

/** `.cold` or `.part.N` pieces split off a function by the compiler. */
export function isChildPart(name: string): boolean {
  return /\.(cold|part)(\.\d+)?(\.|$)/.test(name);
}

/** The function a `.cold`/`.part` piece was split from. */
export function parentOf(name: string): string {
  return name.replace(/\.(cold|part)(\.\d+)?.*$/, '');
}

const SPECIAL_STATICS = new Set(['__key', '__warned', '__already_done', '__func__', '__FUNCTION__', '_rs', 'CSWTCH', '__print_once', '__once', '__flags', '__msg', '__lock_name']);

/**
 * The source-level name of a static made by a kernel macro (lockdep key, once-flag, ratelimit,
 * switch table, dynamic debug descriptor), or undefined for any other symbol. Such statics are
 * never correlated, only carried along.
 */
export function specialStaticName(sym: ElfSymbol): string | undefined {
  const sec = sym.section?.name ?? '';
  // once-flags, and dynamic debug descriptors (one per pr_debug call site: the patch brings its own;
  // `__verbose` is the same section in kernels before 5.1)
  if (/^\.data\.?\.once$|^\.data\.?\.once\.|^__dyndbg|^__verbose$/.test(sec)) return baseName(sym.name);
  // gcc names a function's static `var.N`; clang names it `function.var`, `function.var.N` when there are several
  if (SPECIAL_STATICS.has(baseName(sym.name)) && /(\.\d+)$/.test(sym.name)) return baseName(sym.name);
  if (sym.bind !== STB_LOCAL || sym.type !== STT_OBJECT) return undefined;
  const clang = /^[^.]+\.([^.]+)(\.\d+)?$/.exec(sym.name)?.[1];
  if (clang && SPECIAL_STATICS.has(clang)) return clang;
  return undefined;
}

export function isSpecialStatic(sym: ElfSymbol): boolean {
  return specialStaticName(sym) !== undefined;
}
