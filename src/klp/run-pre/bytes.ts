import { decodeInstructions, findInstructionAt } from '../../arch/x86_64/instructions.js';
import { relocationWidth } from '../../arch/x86_64/relocations.js';
import type { ElfRela } from '../../elf/model.js';

// Byte-level helpers of the run-pre comparison.

/** 1 at every byte a relocation of the function (starting at `start` in its section) patches. */
export function relocatedMask(length: number, relas: readonly ElfRela[], start: bigint): Uint8Array {
  const mask = new Uint8Array(length);
  for (const r of relas) {
    const at = Number(r.offset - start);
    for (let i = Math.max(0, at); i < Math.min(length, at + relocationWidth(r.type)); i++) mask[i] = 1;
  }
  return mask;
}

/** The first offset where `a` and `b` differ outside the mask (a length difference counts at the shorter end). */
export function firstDifference(a: Uint8Array, b: Uint8Array, mask: Uint8Array): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i] && mask[i] !== 1) return i;
  return a.length === b.length ? undefined : n;
}

/** Where the instruction covering byte `offset` of `code` starts (the byte itself when it does not decode). */
export function instructionStart(code: Uint8Array, offset: number): number {
  if (offset >= code.length) return offset;
  return findInstructionAt(decodeInstructions(code, { text: false }), offset)?.offset ?? offset;
}

/** The instruction covering `offset` of `code` (at `address`), as `+0x12: mov ... (48 8b ...)`. */
export function instructionText(code: Uint8Array, offset: number, address: bigint): string {
  if (offset >= code.length) return '(past the end)';
  const insn = findInstructionAt(decodeInstructions(code, { address }), offset);
  if (!insn) return `(byte ${hex(code.subarray(offset, offset + 1))})`;
  return `+0x${insn.offset.toString(16)}: ${insn.text} (${hex(code.subarray(insn.offset, insn.offset + insn.length))})`;
}

export const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

/** The NUL-terminated string at `offset` (without its NUL). */
export function cString(data: Uint8Array, offset: number): Uint8Array {
  let end = offset;
  while (end < data.length && data[end] !== 0) end++;
  return data.subarray(offset, end);
}

/** The kind of place a section holds: code, per-CPU data, init-time code and data, other data. */
function family(name: string): string {
  if (name.startsWith('.data..percpu')) return 'percpu';
  if (/^\.(init|exit)\./.test(name)) return 'init';
  if (/text/.test(name)) return 'text';
  if (/^\.(data|rodata|bss)\b/.test(name)) return 'data';
  return name;
}

/**
 * Whether an object's section can end up in a linked section of that name.
 * The linker script folds sections into a few (`.text.unlikely` into `.text`,
 * `.data..read_mostly` into `.data`, where data is read-only after init
 * differs between releases): the kind of place must agree, not the name.
 */
export function sameSectionKind(objectSection: string, linkedSection: string): boolean {
  return objectSection === linkedSection || family(objectSection) === family(linkedSection);
}
