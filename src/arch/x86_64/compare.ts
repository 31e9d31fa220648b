import type { ElfRela } from '../../elf/model.js';
import { decodeInstructions, type Instruction } from './instructions.js';
import { maskRelocatedBytes } from './relocations.js';

// Position-independent comparison of two versions of a function: instruction
// by instruction, with the bytes relocations patch compared through their
// relocations (type, place in the instruction, addend, target) instead of
// their values, so code that only moved compares equal.

export interface CodeView {
  code: Uint8Array;
  /** Relocations applying to `code`, with offsets in the section. */
  relas: readonly ElfRela[];
  /** Section offset of code[0] (e.g. the function symbol's value). */
  start?: bigint;
}

export interface InstructionDifference {
  /** Position of the first differing instruction (in both: everything before it matched). */
  index: number;
  a?: Instruction;
  b?: Instruction;
  reason: 'bytes' | 'relocation' | 'length';
}

/** Targets match when the symbols have the same name (the section name for section symbols) and the addends match. */
export function sameRelocationTarget(ra: ElfRela, rb: ElfRela): boolean {
  const name = (r: ElfRela): string => r.symbol.name || r.symbol.section?.name || '';
  return name(ra) === name(rb) && ra.addend === rb.addend;
}

function relasIn(view: CodeView, insn: Instruction): ElfRela[] {
  const start = (view.start ?? 0n) + BigInt(insn.offset);
  const end = start + BigInt(insn.length);
  return view.relas.filter((r) => r.offset >= start && r.offset < end).sort((x, y) => (x.offset < y.offset ? -1 : 1));
}

/** The first instruction at which two versions of code differ, or undefined when they are the same. */
export function firstDifferingInstruction(a: CodeView, b: CodeView, sameTarget: (ra: ElfRela, rb: ElfRela) => boolean = sameRelocationTarget): InstructionDifference | undefined {
  const ia = decodeInstructions(a.code);
  const ib = decodeInstructions(b.code);
  const ma = maskRelocatedBytes(a.code, a.relas, a.start ?? 0n);
  const mb = maskRelocatedBytes(b.code, b.relas, b.start ?? 0n);
  for (let k = 0; k < Math.min(ia.length, ib.length); k++) {
    const x = ia[k] as Instruction;
    const y = ib[k] as Instruction;
    if (x.length !== y.length) return { index: k, a: x, b: y, reason: 'bytes' };
    for (let i = 0; i < x.length; i++) if (ma[x.offset + i] !== mb[y.offset + i]) return { index: k, a: x, b: y, reason: 'bytes' };
    const ra = relasIn(a, x);
    const rb = relasIn(b, y);
    const same =
      ra.length === rb.length &&
      ra.every((r, i) => {
        const s = rb[i] as ElfRela;
        return r.type === s.type && r.offset - (a.start ?? 0n) - BigInt(x.offset) === s.offset - (b.start ?? 0n) - BigInt(y.offset) && sameTarget(r, s);
      });
    if (!same) return { index: k, a: x, b: y, reason: 'relocation' };
  }
  if (ia.length !== ib.length) {
    const k = Math.min(ia.length, ib.length);
    return { index: k, ...(ia[k] ? { a: ia[k] } : {}), ...(ib[k] ? { b: ib[k] } : {}), reason: 'length' };
  }
  return undefined;
}
