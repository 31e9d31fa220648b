import { loadIced, type Iced } from './iced.js';

// Instruction boundaries and a disassembly line per instruction, from the
// iced-x86 decoder (WebAssembly; every decoder and instruction it hands out
// must be freed, and the one formatter below is kept).

export interface Instruction {
  /** Offset in the code given (not an address). */
  offset: number;
  length: number;
  /** GNU assembler syntax, as objdump -d writes it (near enough to read; not byte-exact with objdump). */
  text: string;
  /** The bytes do not decode as an instruction (data in a text section, or a cut-off tail). */
  invalid: boolean;
}

export interface DecodeOptions {
  /** Address of code[0]: branch targets in `text` are shown relative to it (default 0). */
  address?: bigint;
  /**
   * Offsets where decoding must restart (function starts): objdump restarts at
   * every symbol, so a decode that lost sync in data resynchronises there too.
   */
  starts?: readonly number[];
  /** Skip formatting `text` (faster when only boundaries are needed). */
  text?: boolean;
}

/** GNU syntax with objdump's habits: lower-case hex, short branch targets, rip-relative displacements. */
function newObjdumpLikeFormatter(): Iced.Formatter {
  const iced = loadIced();
  const f = new iced.Formatter(iced.FormatterSyntax.Gas);
  f.uppercaseHex = false;
  f.branchLeadingZeros = false;
  f.ripRelativeAddresses = true;
  f.showZeroDisplacements = true;
  f.smallHexNumbersInDecimal = false;
  f.showUselessPrefixes = true;
  f.spaceAfterOperandSeparator = false;
  return f;
}

// One formatter, made when first needed and kept (it holds only its options): making one costs
// more than formatting the few instructions a diff shows.
let formatter: Iced.Formatter | undefined;
const objdumpLikeFormatter = (): Iced.Formatter => (formatter ??= newObjdumpLikeFormatter());

export function decodeInstructions(code: Uint8Array, options: DecodeOptions = {}): Instruction[] {
  const iced = loadIced();
  const address = options.address ?? 0n;
  const starts = [...new Set(options.starts ?? [])].filter((s) => s > 0 && s < code.length).sort((a, b) => a - b);
  const wantText = options.text !== false;
  const out: Instruction[] = [];
  const decoder = new iced.Decoder(64, code, iced.DecoderOptions.None);
  const format = wantText ? objdumpLikeFormatter() : undefined;
  const insn = new iced.Instruction();
  try {
    decoder.ip = address;
    let nextStart = 0;
    let position = 0;
    // the decoder moves on by each instruction's length by itself: it is told where only after a cut
    let placed = true;
    while (position < code.length) {
      while (nextStart < starts.length && (starts[nextStart] as number) <= position) nextStart++;
      if (!placed) {
        decoder.position = position;
        decoder.ip = address + BigInt(position);
      }
      decoder.decodeOut(insn);
      let length = insn.length;
      const limit = nextStart < starts.length ? (starts[nextStart] as number) : code.length;
      const invalid = insn.isInvalid;
      // an invalid decode consumes one byte, as objdump's "(bad)"; nothing runs over a restart point
      if (invalid || length <= 0) length = 1;
      if (position + length > limit) length = limit - position;
      out.push({ offset: position, length, text: format && !invalid ? format.format(insn) : invalid ? '(bad)' : '', invalid: invalid || position + insn.length > limit });
      placed = length === insn.length;
      position += length;
    }
  } finally {
    insn.free();
    decoder.free();
  }
  return out;
}

/** Offsets where instructions start. */
export function instructionBoundaries(code: Uint8Array, starts?: readonly number[]): number[] {
  return decodeInstructions(code, { text: false, ...(starts ? { starts } : {}) }).map((i) => i.offset);
}

/** The instruction covering `offset` (binary search over decoded instructions). */
export function findInstructionAt(insns: readonly Instruction[], offset: number): Instruction | undefined {
  let lo = 0;
  let hi = insns.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((insns[mid] as Instruction).offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  const i = insns[lo - 1];
  return i && offset < i.offset + i.length ? i : undefined;
}

/** The System V register of argument `n` (1-based), as a full 64-bit register. */
const argumentRegister = (n: number): Iced.Register | undefined => {
  const { Register } = loadIced();
  return [Register.RDI, Register.RSI, Register.RDX, Register.RCX, Register.R8, Register.R9][n - 1];
};

/** `mov $imm, %reg` where %reg (any width) is the register of argument `n` (1-based): the immediate, else undefined. */
export function immediateArgument(code: Uint8Array, n: number): bigint | undefined {
  const iced = loadIced();
  const want = argumentRegister(n);
  if (want === undefined) return undefined;
  return withDecoded(code, (insn) => {
    if (insn.isInvalid || insn.mnemonic !== iced.Mnemonic.Mov || insn.opCount !== 2 || insn.op0Kind !== iced.OpKind.Register) return undefined;
    if (iced.RegisterExt.fullRegister(insn.op0Register) !== want) return undefined;
    const k = insn.op1Kind;
    const isImmediate = k === iced.OpKind.Immediate32 || k === iced.OpKind.Immediate64 || k === iced.OpKind.Immediate32to64 || k === iced.OpKind.Immediate16 || k === iced.OpKind.Immediate8;
    return isImmediate ? insn.immediate(1) : undefined;
  });
}

/** Whether the instruction may write the register of argument `n` (1-based) or any part of it. */
export function writesArgument(code: Uint8Array, n: number): boolean {
  const iced = loadIced();
  const want = argumentRegister(n);
  if (want === undefined) return false;
  return withDecoded(code, (insn) => {
    if (insn.isInvalid) return true;
    const factory = new iced.InstructionInfoFactory();
    const info = factory.info(insn);
    try {
      const used = info.usedRegisters() as { register: Iced.Register; access: Iced.OpAccess; free(): void }[];
      const writes = used.some(
        (u) =>
          iced.RegisterExt.fullRegister(u.register) === want &&
          (u.access === iced.OpAccess.Write || u.access === iced.OpAccess.CondWrite || u.access === iced.OpAccess.ReadWrite || u.access === iced.OpAccess.ReadCondWrite),
      );
      for (const u of used) u.free();
      return writes;
    } finally {
      info.free();
      factory.free();
    }
  });
}

function withDecoded<T>(code: Uint8Array, f: (insn: Iced.Instruction) => T): T {
  const iced = loadIced();
  const decoder = new iced.Decoder(64, code, iced.DecoderOptions.None);
  const insn = new iced.Instruction();
  try {
    decoder.decodeOut(insn);
    return f(insn);
  } finally {
    insn.free();
    decoder.free();
  }
}
