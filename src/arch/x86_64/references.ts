import { loadIced } from './iced.js';

// The addresses linked code refers to, read from its instructions with the
// decoder's operand API: rip-relative memory operands, call/jmp targets,
// sign-extended 32-bit absolute addresses (mcmodel=kernel: `mov $sym,%rdi`,
// `mov sym(,%rax,8),%rdx`), 64-bit immediates, and %gs: per-cpu offsets.

export type CodeReferenceKind = 'rip' | 'branch' | 'absolute' | 'immediate' | 'percpu';

export interface CodeReference {
  /** Offset of the instruction in the code given. */
  offset: number;
  length: number;
  kind: CodeReferenceKind;
  /** An address, or for 'percpu' an offset into the per-cpu area. */
  target: bigint;
}

/** Kernel addresses on x86-64 (sign-extended 32-bit values of mcmodel=kernel land here). */
const KERNEL_SPACE = 0xffff800000000000n;
const U64 = (1n << 64n) - 1n;

const isKernelAddress = (v: bigint): boolean => (v & U64) >= KERNEL_SPACE;

export function decodeCodeReferences(code: Uint8Array, address: bigint): CodeReference[] {
  const iced = loadIced();
  const out: CodeReference[] = [];
  const decoder = new iced.Decoder(64, code, iced.DecoderOptions.None);
  const insn = new iced.Instruction();
  try {
    decoder.ip = address;
    while (decoder.canDecode) {
      const offset = Number(decoder.ip - address);
      decoder.decodeOut(insn);
      if (insn.isInvalid) continue;
      const length = insn.length;
      const add = (kind: CodeReferenceKind, target: bigint): void => {
        out.push({ offset, length, kind, target: target & U64 });
      };
      for (let i = 0; i < insn.opCount; i++) {
        const kind = insn.opKind(i);
        if (kind === iced.OpKind.NearBranch64) add('branch', insn.nearBranchTarget);
        else if (kind === iced.OpKind.Immediate32to64 || kind === iced.OpKind.Immediate64 || kind === iced.OpKind.Immediate32) {
          const v = insn.immediate(i);
          if (isKernelAddress(v)) add('immediate', v);
        } else if (kind === iced.OpKind.Memory) {
          if (insn.isIpRelMemoryOperand) add('rip', insn.ipRelMemoryAddress);
          else if (insn.memorySegment === iced.Register.GS && insn.memoryBase === iced.Register.None) add('percpu', insn.memoryDisplacementU64);
          else if (insn.memoryDisplSize >= 4 && isKernelAddress(insn.memoryDisplacementU64)) add('absolute', insn.memoryDisplacementU64);
        }
      }
    }
  } finally {
    insn.free();
    decoder.free();
  }
  return out;
}

/**
 * Where the instruction holding the field at `fieldOffset` ends, for
 * PC-relative relocations: the target is S + A + (end − field). Decoded from
 * `starts` (a function start) so the boundaries are the real ones.
 */
export function instructionEndAt(code: Uint8Array, fieldOffset: number, start = 0): number | undefined {
  const iced = loadIced();
  const decoder = new iced.Decoder(64, code.subarray(start), iced.DecoderOptions.None);
  const insn = new iced.Instruction();
  try {
    decoder.ip = BigInt(start);
    while (decoder.canDecode) {
      decoder.decodeOut(insn);
      const end = Number(insn.nextIP);
      if (fieldOffset < end) return insn.isInvalid || fieldOffset < Number(insn.ip) ? undefined : end;
    }
    return undefined;
  } finally {
    insn.free();
    decoder.free();
  }
}
