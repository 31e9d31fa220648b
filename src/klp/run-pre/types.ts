import type { ElfIndex } from '../../elf/lookup.js';
import type { ElfSymbol } from '../../elf/model.js';

// What run-pre compares and what it answers (Ksplice's check, at build time):
// a function as compiled from the release's source, against the same function
// in the release's binaries.

/** A function of the freshly compiled original object. */
export interface CompiledFunction {
  idx: ElfIndex;
  fn: ElfSymbol;
}

/** How a relocated field was proven to point at the same entity: by name, by a string's bytes, or by the kind of section it lands in (anonymous data). */
export type RelocationCheck = 'symbol' | 'string' | 'section';

export type RelocationCounts = Record<RelocationCheck, number>;

export interface CodeMismatch {
  /** Offset in the function of the first difference. */
  offset: number;
  /** The instruction there as compiled, and as the kernel has it. */
  compiled: string;
  running: string;
  why: string;
}

/** A local name of the compiled object and the running kernel's symbol its code reaches. */
export interface Bound {
  name: string;
  target: ElfSymbol;
}

export type Comparison = { ok: true; bound: Bound[]; relocations: RelocationCounts } | { ok: false; mismatch: CodeMismatch };

export const noRelocations = (): RelocationCounts => ({ symbol: 0, string: 0, section: 0 });
