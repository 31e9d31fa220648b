import type { ElfSymbol } from '../elf/model.js';

// Names the compiler makes, and statics the kernel's macros make.

/**
 * A name with compiler numbering removed: `foo.constprop.3.isra.0` →
 * `foo.constprop.N.isra.N`, `count.12` → `count.N`, `__UNIQUE_ID_ddebug451` →
 * `__UNIQUE_ID_ddebugN`, `__UNIQUE_ID_hit3.0` → `__UNIQUE_ID_hitN.N`. Two
 * symbols with the same shape are candidate twins.
 */
export function nameShape(name: string): string {
  const [head = '', ...rest] = name.split('.');
  return [head.replace(/^(__UNIQUE_ID_.*?)\d+$/, '$1N'), ...rest.map((c) => (/^\d+$/.test(c) ? 'N' : c))].join('.');
}

/** The source-level name: `foo.constprop.0` → `foo`, `count.12` → `count`. */
export function baseName(name: string): string {
  return name.replace(/^(__UNIQUE_ID_.*?)\d+$/, '$1').split('.')[0] ?? name;
}

/** `.cold` or `.part.N` pieces split off a function by the compiler. */
export function isChildPart(name: string): boolean {
  return /\.(cold|part)(\.\d+)?(\.|$)/.test(name);
}

/** The function a `.cold`/`.part` piece was split from. */
export function parentOf(name: string): string {
  return name.replace(/\.(cold|part)(\.\d+)?.*$/, '');
}

const SPECIAL_STATICS = new Set(['__key', '__warned', '__already_done', '__func__', '_rs', 'CSWTCH', '__print_once', '__once', '__flags', '__msg', '__lock_name']);

/** Statics made by kernel macros (lockdep keys, once-flags, ratelimits, switch tables): never correlated, carried along. */
export function isSpecialStatic(sym: ElfSymbol): boolean {
  const sec = sym.section?.name ?? '';
  // once-flags, and dynamic debug descriptors (one per pr_debug call site: the patch brings its own)
  if (/^\.data\.?\.once$|^\.data\.?\.once\.|^__dyndbg/.test(sec)) return true;
  return SPECIAL_STATICS.has(baseName(sym.name)) && /(\.\d+)$/.test(sym.name);
}
