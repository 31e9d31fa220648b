import type { ElfIndex } from '../../elf/lookup.js';
import type { ElfFile, ElfSymbol } from '../../elf/model.js';
import type { Side } from '../compare.js';
import type { Twins } from '../correlate.js';
import type { ReferenceGraph } from '../references.js';
import type { Callback, DataDiff, DiffOptions, FunctionDiff, PatchState, Refusal } from '../types.js';

// What the differ's passes read and add to, in the order index.ts runs them.

export interface DiffInput {
  orig: ElfFile;
  patched: ElfFile;
  oi: ElfIndex;
  pi: ElfIndex;
  twins: Twins;
  oSide: Side;
  pSide: Side;
  /** References in the patched object, built once. */
  graph: ReferenceGraph;
  options: DiffOptions;
}

export interface DiffState extends DiffInput {
  /** Every function, by its patched symbol (the orig one when removed). */
  functions: Map<ElfSymbol, FunctionDiff>;
  /** Every data object, likewise. */
  data: Map<ElfSymbol, DataDiff>;
  refusals: Refusal[];
  warnings: string[];
  /** Filled by the callbacks pass. */
  callbacks: Callback[];
  states: PatchState[];
}
