import { SHF_EXECINSTR, SHT_NOBITS, STT_NOTYPE, STT_OBJECT, STT_SECTION } from '../../elf/constants.js';
import type { ElfIndex } from '../../elf/lookup.js';
import type { ElfRela, ElfSection, ElfSymbol } from '../../elf/model.js';
import { decodeInstructions, findInstructionAt, type Instruction } from './instructions.js';
import { relocationType } from './relocations.js';

// Where a relocation really points. For a PC-relative field inside an
// instruction the CPU adds the displacement to the address of the *next*
// instruction, so the assembler stores `target - (end of instruction - field)`
// in the addend: -4 for `mov x(%rip),%rax`, -5 for `cmpq $0,x(%rip)`, -8 for
// `movq $imm32,x(%rip)`. The target is S + A + (end of instruction - field);
// reading the addend alone misses file-scope statics reached through section
// symbols. In data (side tables, `.long x - .`) a PC-relative field means S + A.

export interface RelaTarget {
  /** The section the relocation points into (null: undefined or absolute symbol). */
  section: ElfSection | null;
  /** Offset in that section (for a section symbol) or from the symbol (otherwise). */
  offset: bigint;
  /** The named function or object covering the target, or the relocation's own symbol. */
  symbol: ElfSymbol;
  /** `offset` relative to `symbol`. */
  addend: bigint;
}

interface Span {
  start: bigint;
  insns: Instruction[];
}

class RelocationTargets {
  /** Decoded code by section, start and end: the differ compares the very functions whose relocations are resolved here. */
  private readonly decoded = new Map<ElfSection, Map<bigint, Map<bigint, Instruction[]>>>();

  constructor(private readonly idx: ElfIndex) {}

  /** The instructions of [start, end) of a section with contents (decoded without text), decoded once. */
  instructionsIn(section: ElfSection, start: bigint, end: bigint): Instruction[] {
    let byStart = this.decoded.get(section);
    if (!byStart) this.decoded.set(section, (byStart = new Map()));
    let byEnd = byStart.get(start);
    if (!byEnd) byStart.set(start, (byEnd = new Map()));
    let insns = byEnd.get(end);
    if (!insns) byEnd.set(end, (insns = this.decode(section.data.subarray(Number(start), Number(end)))));
    return insns;
  }

  private decode(code: Uint8Array): Instruction[] {
    const shared = sharedCode.get(this.idx);
    if (!shared) return decodeInstructions(code, { text: false });
    const key = Buffer.from(code.buffer, code.byteOffset, code.length).toString('latin1');
    let insns = shared.get(key);
    if (!insns) shared.set(key, (insns = decodeInstructions(code, { text: false })));
    return insns;
  }

  /** The decoded instructions of the function covering `offset` (or of the whole section when no symbol covers it). */
  private spanAt(section: ElfSection, offset: bigint): Span {
    const fn = this.idx.findSymbolContaining(section, offset);
    const start = fn && fn.type !== STT_SECTION ? fn.value : 0n;
    const end = fn && fn.type !== STT_SECTION ? fn.value + BigInt(fn.size) : BigInt(section.size);
    return { start, insns: section.type === SHT_NOBITS ? [] : this.instructionsIn(section, start, end) };
  }

  /** Bytes from a relocated field to the end of its instruction (0 outside code, or when the type is not PC-relative). */
  fieldToInstructionEnd(base: ElfSection, r: ElfRela): bigint {
    const info = relocationType(r.type);
    if (!info?.pcRelative || (base.flags & SHF_EXECINSTR) === 0n) return 0n;
    const span = this.spanAt(base, r.offset);
    const insn = findInstructionAt(span.insns, Number(r.offset - span.start));
    // a field the decoder cannot place: the common case, the field ends its instruction
    if (!insn || insn.invalid) return BigInt(info.width);
    return span.start + BigInt(insn.offset + insn.length) - r.offset;
  }

  /** What targetOf found, by relocation (each is asked about many times: once per comparison that meets it). */
  private readonly targets = new Map<ElfRela, { base: ElfSection; target: RelaTarget }>();

  targetOf(base: ElfSection, r: ElfRela): RelaTarget {
    const known = this.targets.get(r);
    if (known?.base === base) return known.target;
    const target = this.resolve(base, r);
    this.targets.set(r, { base, target });
    return target;
  }

  private resolve(base: ElfSection, r: ElfRela): RelaTarget {
    const sym = r.symbol;
    const adjust = this.fieldToInstructionEnd(base, r);
    if (!sym.section || (sym.type !== STT_SECTION && sym.type !== STT_NOTYPE)) {
      return { section: sym.section, offset: r.addend + adjust, symbol: sym, addend: r.addend + adjust };
    }
    const offset = sym.value + r.addend + adjust;
    const inner = findSymbolAt(this.idx, sym.section, offset);
    if (inner && inner.type !== STT_SECTION) return { section: sym.section, offset, symbol: inner, addend: offset - inner.value };
    return { section: sym.section, offset, symbol: sym, addend: offset - sym.value };
  }
}

/**
 * The function or object a place in a section belongs to: the innermost sized
 * symbol covering it, else a zero-sized object exactly there (an empty lock
 * class key covers no byte, yet code refers to it).
 */
export function findSymbolAt(idx: ElfIndex, section: ElfSection, offset: bigint): ElfSymbol | undefined {
  return idx.findSymbolContaining(section, offset) ?? idx.findSymbolsBySection(section).find((s) => s.size === 0 && s.value === offset && s.type === STT_OBJECT);
}

const cache = new WeakMap<ElfIndex, RelocationTargets>();

/** Decoded code by its bytes, shared by indexes whose files hold much the same code. */
const sharedCode = new WeakMap<ElfIndex, Map<string, Instruction[]>>();

/**
 * Lets two indexes share decoded code: two compilations of one source file
 * hold mostly the same functions, and each is then decoded once.
 */
export function shareDecodedCode(a: ElfIndex, b: ElfIndex): void {
  const shared = sharedCode.get(a) ?? sharedCode.get(b) ?? new Map<string, Instruction[]>();
  sharedCode.set(a, shared);
  sharedCode.set(b, shared);
}

function targetsFor(idx: ElfIndex): RelocationTargets {
  let t = cache.get(idx);
  if (!t) cache.set(idx, (t = new RelocationTargets(idx)));
  return t;
}

/**
 * The instructions of [start, end) of `section` (which has contents), decoded
 * without text once per index: what resolving relocations decodes is reused.
 */
export function instructionsIn(idx: ElfIndex, section: ElfSection, start: bigint, end: bigint): Instruction[] {
  return targetsFor(idx).instructionsIn(section, start, end);
}

/** The section a relocation applies to. */
function baseOf(idx: ElfIndex, r: ElfRela): ElfSection | null {
  const relaSec = idx.findRelaSectionOf(r);
  return relaSec ? idx.findBaseSection(relaSec) : null;
}

/** Bytes from relocation `r`'s field in `base` to the end of its instruction: 0 outside code and for absolute types. */
export function fieldToInstructionEnd(idx: ElfIndex, base: ElfSection, r: ElfRela): bigint {
  return targetsFor(idx).fieldToInstructionEnd(base, r);
}

/** Where relocation `r` (applying to `base`, found through the index when omitted) points. */
export function findRelaTarget(idx: ElfIndex, r: ElfRela, base?: ElfSection): RelaTarget {
  const b = base ?? baseOf(idx, r);
  if (!b) return { section: r.symbol.section, offset: r.addend, symbol: r.symbol, addend: r.addend };
  return targetsFor(idx).targetOf(b, r);
}
