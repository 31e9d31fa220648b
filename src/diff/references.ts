import { SHF_ALLOC } from '../elf/constants.js';
import type { ElfIndex } from '../elf/lookup.js';
import type { ElfFile, ElfRela, ElfSection, ElfSymbol } from '../elf/model.js';
import { isRelocationSection } from '../elf/predicates.js';
import { resolveRelaTarget } from './correlate.js';

// Who refers to whom in one object, built once per diff: for each symbol the
// relocations' targets resolve to, the functions and objects whose bytes hold
// those relocations (or the section, when no symbol covers the place).

export interface Reference {
  /** The function or object holding the relocation; undefined when no symbol covers it. */
  from?: ElfSymbol;
  /** The section holding the relocation. */
  section: ElfSection;
  rela: ElfRela;
}

export interface ReferenceGraph {
  /** Symbols `fn` (a function or object) refers to, in relocation order. */
  referencesOf(sym: ElfSymbol): ElfSymbol[];
  /** Every place that refers to `sym`. */
  usersOf(sym: ElfSymbol): Reference[];
}

/** The graph, built when first asked (most diffs never ask: resolving every relocation costs a decode of all the code). */
export function buildReferenceGraph(file: ElfFile, idx: ElfIndex): ReferenceGraph {
  let graph: ReferenceGraph | undefined;
  return {
    referencesOf: (sym) => (graph ??= referenceGraph(file, idx)).referencesOf(sym),
    usersOf: (sym) => (graph ??= referenceGraph(file, idx)).usersOf(sym),
  };
}

function referenceGraph(file: ElfFile, idx: ElfIndex): ReferenceGraph {
  const out = new Map<ElfSymbol, ElfSymbol[]>();
  const users = new Map<ElfSymbol, Reference[]>();
  const bases = new Set(file.sections.filter((s) => isRelocationSection(s.type) && s.base && (s.base.flags & SHF_ALLOC) !== 0n).map((s) => s.base as ElfSection));
  for (const base of bases) {
    for (const r of idx.findRelasBySection(base)) {
      const target = resolveRelaTarget(r, idx, base);
      const holder = idx.findSymbolContaining(base, r.offset);
      const from = holder && holder.section === base ? holder : undefined;
      if (from) {
        const list = out.get(from);
        if (list) list.push(target);
        else out.set(from, [target]);
      }
      const ref: Reference = { section: base, rela: r, ...(from ? { from } : {}) };
      const list = users.get(target);
      if (list) list.push(ref);
      else users.set(target, [ref]);
    }
  }
  return {
    referencesOf: (sym) => out.get(sym) ?? [],
    usersOf: (sym) => users.get(sym) ?? [],
  };
}
