import { SHF_ALLOC, SHT_NOBITS } from '../elf/constants.js';
import type { ElfIndex } from '../elf/lookup.js';
import type { ElfSection, ElfSymbol } from '../elf/model.js';
import { specialSection } from './special.js';

// What a section is, for the differ's rules.

export const isInit = (s: ElfSection | null): boolean => !!s && /^\.(init|exit)\.(text|data|rodata)/.test(s.name);

export const isExportSection = (name: string): boolean => /^___?ksymtab(_gpl)?\+|^__ksymtab(_gpl)?$|^__ksymtab_strings$/.test(name);

/** A call to __fentry__ in the first instructions: the function can be redirected by ftrace. */
export function hasFentry(fn: ElfSymbol, idx: ElfIndex): boolean {
  if (!fn.section) return false;
  return idx.findRelasInRange(fn.section, fn.value, fn.value + 16n).some((r) => r.symbol.name === '__fentry__' || r.symbol.name === 'mcount');
}

/** Sections whose changes need nothing: metadata, debug info, our own side tables. */
export function ignorable(s: ElfSection): boolean {
  return (
    (s.flags & SHF_ALLOC) === 0n ||
    /^\.(note|comment|debug|BTF|modinfo|gnu\.linkonce\.this_module|discard|eh_frame)|^__versions$|^\.rela?\./.test(s.name) ||
    specialSection(s.name) !== undefined
  );
}

export function sameContents(a: ElfSection, b: ElfSection): boolean {
  if (a.size !== b.size) return false;
  if (a.type === SHT_NOBITS || b.type === SHT_NOBITS) return a.type === b.type;
  return Buffer.from(a.data).equals(Buffer.from(b.data));
}

/**
 * Data the compiler makes per call site and only that site reads: UBSAN's
 * source-location and type records (`.data..Lubsan_data12`). The patched code
 * brings its own, like the kernel macros' statics; the running kernel's are
 * never reached from the new code.
 */
export const isPerSiteData = (name: string): boolean => /^\.data\.\.L(ubsan|asan)_/.test(name);
