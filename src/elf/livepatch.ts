import { KLP_RELA_PREFIX, KLP_SYM_PREFIX } from './constants.js';

// The livepatch names of module-elf-format.rst, written and read in one place:
//   `.klp.sym.<objname>.<symname>,<sympos>`  (objname has no '.', symname may: `buf.1`)
//   `.klp.rela.<objname>.<section name without its leading '.'>`
// and what a sympos selects among same-named symbols in kallsyms order.

export interface LivepatchSymbolName {
  /** 'vmlinux' or a module name. */
  object: string;
  name: string;
  sympos: number;
}

export function formatLivepatchSymbolName(s: LivepatchSymbolName): string {
  return `${KLP_SYM_PREFIX}${s.object}.${s.name},${s.sympos}`;
}

/** undefined when the name is not a well-formed `.klp.sym` name. */
export function parseLivepatchSymbolName(full: string): LivepatchSymbolName | undefined {
  if (!full.startsWith(KLP_SYM_PREFIX)) return undefined;
  const rest = full.slice(KLP_SYM_PREFIX.length);
  const dot = rest.indexOf('.');
  const comma = rest.lastIndexOf(',');
  if (dot <= 0 || comma <= dot + 1) return undefined;
  const pos = rest.slice(comma + 1);
  if (!/^\d+$/.test(pos)) return undefined;
  return { object: rest.slice(0, dot), name: rest.slice(dot + 1, comma), sympos: Number(pos) };
}

export function formatLivepatchRelaSectionName(object: string, base: string): string {
  return `${KLP_RELA_PREFIX}${object}.${base.replace(/^\./, '')}`;
}

/** The object a `.klp.rela.<objname>.<section>` section applies to. */
export function livepatchRelaObject(sectionName: string): string | undefined {
  if (!sectionName.startsWith(KLP_RELA_PREFIX)) return undefined;
  const rest = sectionName.slice(KLP_RELA_PREFIX.length);
  const dot = rest.indexOf('.');
  return dot > 0 ? rest.slice(0, dot) : undefined;
}

/**
 * The symbol a sympos selects, as the livepatch core resolves it
 * (klp_find_object_symbol): 0 needs a unique name; N is the N-th of that
 * name in kallsyms order. `sameNamed` is in that order.
 */
export function symbolAtSympos<T>(sameNamed: readonly T[], sympos: number): T | undefined {
  if (sympos === 0) return sameNamed.length === 1 ? sameNamed[0] : undefined;
  return sameNamed[sympos - 1];
}

/** rebootless names the new code of a replaced function `__rebootless_new_<function>`. */
export const NEW_CODE_PREFIX = '__rebootless_new_';

/** The C identifier of a function's new code (`foo.part.0` → `__rebootless_new_foo_part_0`: the module source declares it). */
export function newCodeSymbol(name: string): string {
  return `${NEW_CODE_PREFIX}${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}
