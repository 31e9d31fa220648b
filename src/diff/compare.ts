import { decodeInstructions, immediateArgument, writesArgument, type Instruction } from '../arch/x86_64/instructions.js';
import { findSymbolAt, instructionsIn } from '../arch/x86_64/rela-target.js';
import { maskRelocatedBytes, relocationType, relocationWidth } from '../arch/x86_64/relocations.js';
import { SHF_MERGE, SHF_STRINGS, SHT_NOBITS, STT_FUNC, STT_NOTYPE, STT_SECTION } from '../elf/constants.js';
import type { ElfIndex } from '../elf/lookup.js';
import type { ElfRela, ElfSection, ElfSymbol } from '../elf/model.js';
import { resolveRelaTarget, type Twins } from './correlate.js';
import { specialStaticName } from './names.js';
import { specialSection } from './special.js';
import type { CallSite, InstructionDiff } from './types.js';

// Position-independent comparison: instruction bytes with relocated fields
// masked, plus what each relocation points at, by name (twin-resolved) and
// offset, or by content for anonymous strings and constants.

export interface Side {
  role: 'orig' | 'patched';
  idx: ElfIndex;
  twins: Twins;
}

/**
 * Helpers that take __LINE__, and the argument (1-based, from their
 * prototypes) that carries it: `__might_sleep(file, line)`,
 * `warn_slowpath_fmt(file, line, taint, fmt, ...)`,
 * `__btrfs_abort_transaction(trans, function, line, ...)`. Only a changed
 * immediate in exactly that argument is forgiven: a printk's value arguments
 * are real changes, whatever they were in the source.
 */
const LINE_ARGUMENT: ReadonlyMap<string, number> = new Map([
  ['__might_sleep', 2],
  ['___might_sleep', 2],
  ['__might_resched', 2],
  ['__might_fault', 2],
  ['__cant_sleep', 2],
  ['__cant_migrate', 2],
  ['warn_slowpath_fmt', 2],
  ['warn_slowpath_null', 2],
  ['lockdep_rcu_suspicious', 2],
  ['__btrfs_abort_transaction', 3],
  ['__btrfs_handle_fs_error', 3],
  ['__btrfs_panic', 3],
  ['__ext4_error', 3],
  ['__ext4_error_inode', 3],
  ['__ext4_error_file', 3],
  ['__ext4_std_error', 3],
  ['__ext4_warning', 3],
  ['__ext4_warning_inode', 3],
  ['__ext4_journal_start_sb', 2],
  ['__ext4_journal_start_reserved', 2],
]);

/** The name a symbol is known by on both sides. */
export function canonicalName(sym: ElfSymbol, side: Side): string {
  const special = specialStaticName(sym);
  if (special !== undefined) return `special:${special}`;
  if (sym.section === null) return sym.name; // undefined or absolute: the same name is the same thing
  if (side.role === 'orig') {
    const twin = side.twins.forward.get(sym);
    return twin ? twin.name : `orig-only:${sym.name}`;
  }
  return side.twins.backward.has(sym) || sym.type === STT_SECTION ? sym.name : `patched-only:${sym.name}`;
}

/**
 * A message that names its place as text, `__FILE__ ":" __stringify(__LINE__)`
 * (fortify's "field-spanning write" warning, hand-made `file:line` reports),
 * compared without the line: it moves with every line added above it.
 */
const withoutLines = (text: string): string => text.replace(/(\.[ch]):\d+/g, '$1:<line>');

export function cString(data: Uint8Array, at: number): string {
  let end = at;
  while (end < data.length && data[end] !== 0) end++;
  return Buffer.from(data.subarray(at, end)).toString('latin1');
}

/** What a relocation at `field` (ending its instruction at `insnEnd`) really points at. */
export function targetIdentity(r: ElfRela, side: Side, field: bigint, insnEnd: bigint): string {
  const info = relocationType(r.type);
  const adjust = info?.pcRelative ? insnEnd - field : 0n;
  const sym = r.symbol;
  const kind = `${info?.name ?? r.type}`;
  // section symbols and local labels (`.LC3` into merged constants) say only "this place in that section"
  if ((sym.type === STT_SECTION || sym.type === STT_NOTYPE) && sym.section) {
    const sec = sym.section;
    if (specialSection(sec.name)?.inert) return `${kind}:section:${sec.name}`;
    const target = sym.value + r.addend + adjust;
    const inner = findSymbolAt(side.idx, sec, target);
    if (inner && inner.type !== STT_SECTION) return `${kind}:${canonicalName(inner, side)}+${target - inner.value}`;
    if ((sec.flags & SHF_STRINGS) !== 0n && sec.type !== SHT_NOBITS) return `${kind}:str:${JSON.stringify(withoutLines(cString(sec.data, Number(target))))}`;
    if ((sec.flags & SHF_MERGE) !== 0n && sec.entsize > 0 && sec.type !== SHT_NOBITS) {
      const at = Number(target);
      return `${kind}:const:${Buffer.from(sec.data.subarray(at, at + sec.entsize)).toString('hex')}`;
    }
    return `${kind}:section:${sec.name}+${target}`;
  }
  return `${kind}:${canonicalName(sym, side)}+${r.addend + adjust}`;
}

interface Code {
  bytes: Uint8Array;
  masked: Uint8Array;
  insns: Instruction[];
  /** relocations by offset relative to the function start */
  relas: ElfRela[];
  /** each instruction's relocations, in `relas` order */
  relasByInsn: Map<Instruction, ElfRela[]>;
  section: ElfSection;
  start: bigint;
}

/** A function's bytes and the relocations in them. */
function rawCode(fn: ElfSymbol, side: Side): { bytes: Uint8Array; relas: ElfRela[] } {
  const sec = fn.section as ElfSection;
  const bytes = sec.type === SHT_NOBITS ? new Uint8Array(fn.size) : sec.data.subarray(Number(fn.value), Number(fn.value) + fn.size);
  return { bytes, relas: side.idx.findRelasInRange(sec, fn.value, fn.value + BigInt(fn.size)) };
}

function instructionsOf(fn: ElfSymbol, side: Side, bytes: Uint8Array): Instruction[] {
  const sec = fn.section as ElfSection;
  return sec.type === SHT_NOBITS ? decodeInstructions(bytes, { text: false }) : instructionsIn(side.idx, sec, fn.value, fn.value + BigInt(fn.size));
}

export function codeOf(fn: ElfSymbol, side: Side, raw = rawCode(fn, side)): Code {
  const start = fn.value;
  const { bytes, relas } = raw;
  const insns = instructionsOf(fn, side, bytes);
  return { bytes, masked: maskRelocatedBytes(bytes, relas, start), insns, relas, relasByInsn: relasByInstruction(insns, relas, start), section: fn.section as ElfSection, start };
}

/** Relocation fields at the same places in both functions, of the same widths (so the masked bytes match when the bytes do). */
function sameFields(o: ElfSymbol, orel: readonly ElfRela[], p: ElfSymbol, prel: readonly ElfRela[]): boolean {
  if (orel.length !== prel.length) return false;
  for (let k = 0; k < orel.length; k++) {
    const a = orel[k] as ElfRela;
    const b = prel[k] as ElfRela;
    if (a.offset - o.value !== b.offset - p.value || relocationWidth(a.type) !== relocationWidth(b.type)) return false;
  }
  return true;
}

/**
 * For two functions with the same bytes and relocation fields (so the same instructions): whether
 * every instruction's relocations point at the same things, as the instruction-by-instruction
 * comparison would find (its identity strings, built here only for the instructions that have
 * relocations), walking the relocations alone.
 */
function sameTargets(insns: () => readonly Instruction[], o: ElfSymbol, orel: readonly ElfRela[], origSide: Side, p: ElfSymbol, prel: readonly ElfRela[], patchedSide: Side): boolean {
  const quick = sameNamedTargets(orel, origSide, prel, patchedSide);
  if (quick !== undefined) return quick;
  return sameTargetsByInstruction(insns(), o, orel, origSide, p, prel, patchedSide);
}

/** The symbol says only "a place in this section": where exactly depends on the instruction's end. */
const throughSection = (sym: ElfSymbol): boolean => (sym.type === STT_SECTION || sym.type === STT_NOTYPE) && sym.section !== null;

/**
 * sameTargets without decoding, when every relocation names its target: with the same bytes on
 * both sides each field ends the same instruction at the same distance, so the same type, the
 * same addend and the same canonical name are the same identity. Undefined when a relocation
 * goes through a section symbol (its target needs the instruction's end).
 */
function sameNamedTargets(orel: readonly ElfRela[], origSide: Side, prel: readonly ElfRela[], patchedSide: Side): boolean | undefined {
  let same = true;
  for (let k = 0; k < orel.length; k++) {
    const a = orel[k] as ElfRela;
    const b = prel[k] as ElfRela;
    if (throughSection(a.symbol) || throughSection(b.symbol)) return undefined;
    if (same && (a.type !== b.type || a.addend !== b.addend || canonicalName(a.symbol, origSide) !== canonicalName(b.symbol, patchedSide))) same = false;
  }
  return same;
}

function sameTargetsByInstruction(insns: readonly Instruction[], o: ElfSymbol, orel: readonly ElfRela[], origSide: Side, p: ElfSymbol, prel: readonly ElfRela[], patchedSide: Side): boolean {
  const start = Number(o.value);
  let j = 0;
  for (const insn of insns) {
    if (j >= orel.length) break;
    const lo = insn.offset;
    const hi = lo + insn.length;
    while (j < orel.length && Number((orel[j] as ElfRela).offset) - start < lo) j++;
    let k = j;
    while (k < orel.length && Number((orel[k] as ElfRela).offset) - start < hi) k++;
    if (k - j === 1) {
      // one relocation: its place in the instruction is the same on both sides, so its target decides
      const a = orel[j] as ElfRela;
      const b = prel[j] as ElfRela;
      if (targetIdentity(a, origSide, a.offset, o.value + BigInt(hi)) !== targetIdentity(b, patchedSide, b.offset, p.value + BigInt(hi))) return false;
    } else if (k > j) {
      const ids = (rs: readonly ElfRela[], fn: ElfSymbol, side: Side): string =>
        rs
          .slice(j, k)
          .map((r) => `${r.offset - fn.value - BigInt(lo)}:${targetIdentity(r, side, r.offset, fn.value + BigInt(hi))}`)
          .join('|');
      if (ids(orel, o, origSide) !== ids(prel, p, patchedSide)) return false;
    }
    j = k;
  }
  return true;
}

/** Relocations sorted by offset fall in runs, one per instruction: one walk over both lists (instructions without any are left out). */
function relasByInstruction(insns: readonly Instruction[], relas: readonly ElfRela[], start: bigint): Map<Instruction, ElfRela[]> {
  const out = new Map<Instruction, ElfRela[]>();
  if (relas.length === 0) return out;
  // offsets in the function: small numbers (the relocations lie within it)
  const at = relas.map((r) => Number(r.offset - start));
  let j = 0;
  for (const insn of insns) {
    if (j >= relas.length) break;
    const lo = insn.offset;
    const hi = lo + insn.length;
    while (j < at.length && (at[j] as number) < lo) j++;
    let k = j;
    while (k < at.length && (at[k] as number) < hi) k++;
    if (k > j) out.set(insn, relas.slice(j, k));
  }
  return out;
}

const NO_RELAS: readonly ElfRela[] = [];

function relasIn(code: Code, insn: Instruction): readonly ElfRela[] {
  return code.relasByInsn.get(insn) ?? NO_RELAS;
}

/** a[at, at + length) and b[bt, bt + length) hold the same bytes. */
function sameRange(a: Uint8Array, at: number, b: Uint8Array, bt: number, length: number): boolean {
  if (at + length > a.length || bt + length > b.length) return sameBytes(a.subarray(at, at + length), b.subarray(bt, bt + length));
  for (let i = 0; i < length; i++) if (a[at + i] !== b[bt + i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length > 64) return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function insnIdentity(code: Code, insn: Instruction, side: Side): string[] {
  const end = code.start + BigInt(insn.offset + insn.length);
  return relasIn(code, insn).map((r) => `${r.offset - code.start - BigInt(insn.offset)}:${targetIdentity(r, side, r.offset, end)}`);
}

/** The callee of a direct call or tail jump at this instruction: its key (twin-resolved) and its own name. */
function calleeAt(code: Code, insn: Instruction, side: Side): { key: string; name: string } | undefined {
  const op = code.bytes[insn.offset];
  if ((op !== 0xe8 && op !== 0xe9) || insn.length !== 5) return undefined;
  const r = relasIn(code, insn)[0];
  if (!r) return undefined;
  const key = targetIdentity(r, side, r.offset, code.start + BigInt(insn.offset + insn.length)).replace(/^[^:]+:/, '').replace(/\+0$/, '');
  const target = resolveRelaTarget(r, side.idx, code.section);
  return { key, name: target.type === STT_SECTION ? key.replace(/^(orig|patched)-only:/, '') : target.name };
}

function textAt(code: Code, i: number): string | undefined {
  const insn = code.insns[i];
  if (!insn) return undefined;
  const one = decodeInstructions(code.bytes.subarray(insn.offset, insn.offset + insn.length), { address: BigInt(insn.offset) });
  return one[0]?.text;
}

/** Which argument (1-based) of the next call instruction `insn` loads an immediate into, if any. */
function immediateArgumentNumber(bytes: Uint8Array): number | undefined {
  for (let n = 1; n <= 6; n++) if (immediateArgument(bytes, n) !== undefined) return n;
  return undefined;
}

/**
 * Argument `n` of the call at `call` names a place in the source: a file name
 * (`__FILE__`) or the function's own name (`__func__`), loaded somewhere in the
 * few instructions before it.
 */
function isPlaceArgument(p: Code, call: number, n: number, side: Side): boolean {
  for (let k = Math.max(0, call - 12); k < call; k++) {
    const insn = p.insns[k] as Instruction;
    if (!writesArgument(p.bytes.subarray(insn.offset, insn.offset + insn.length), n)) continue;
    if (insnIdentity(p, insn, side).some((id) => /:str:"[^"]+\.[ch]"$|:special:(__func__|__FUNCTION__)\+0$/.test(id))) return true;
  }
  return false;
}

/**
 * Instruction i loads a different immediate into the line argument of the
 * next call, and nothing in between overwrites it. The line argument is the
 * one a LINE_ARGUMENT helper's prototype names, or, for any other callee
 * (`__warn_printk(fmt, __FILE__, __LINE__)` of ASSERT_RTNL,
 * `pr_err("%s:%d", __func__, __LINE__)`), the argument right after a
 * `__FILE__` or `__func__` string: the `file, line` and `function, line`
 * pairs kernel location reports use.
 */
function isLineArgument(o: Code, p: Code, i: number, side: Side): boolean {
  const bytesOf = (c: Code, insn: Instruction): Uint8Array => c.bytes.subarray(insn.offset, insn.offset + insn.length);
  const oBytes = bytesOf(o, o.insns[i] as Instruction);
  const pBytes = bytesOf(p, p.insns[i] as Instruction);
  for (let j = i + 1; j < Math.min(p.insns.length, i + 10); j++) {
    const callee = calleeAt(p, p.insns[j] as Instruction, side);
    if (callee === undefined) continue;
    const n = LINE_ARGUMENT.get(callee.name) ?? immediateArgumentNumber(pBytes);
    if (n === undefined || (!LINE_ARGUMENT.has(callee.name) && (n < 2 || !isPlaceArgument(p, j, n - 1, side)))) return false;
    for (let k = i + 1; k < j; k++) if (writesArgument(bytesOf(p, p.insns[k] as Instruction), n)) return false;
    const was = immediateArgument(oBytes, n);
    const now = immediateArgument(pBytes, n);
    return was !== undefined && now !== undefined && was !== now;
  }
  return false;
}

export interface FunctionComparison {
  same: boolean;
  firstDifference?: InstructionDiff;
  /** Calls the patched function makes that the original does not (worked out for changed functions only: empty when same). */
  newCallees: CallSite[];
  /** Calls the original makes that the patched function does not (likewise). */
  removedCallees: CallSite[];
  /** Instructions that differ only in a __LINE__ argument. */
  lineOnly: number;
}

interface KeyedCall extends CallSite {
  key: string;
}

function callees(code: Code, side: Side): KeyedCall[] {
  const out: KeyedCall[] = [];
  for (const insn of code.insns) {
    const c = calleeAt(code, insn, side);
    if (c !== undefined) out.push({ callee: c.name, key: c.key, offset: insn.offset });
  }
  return out;
}

/** Calls in `a` that `b` does not have (by callee, counting repeats). */
function multisetMinus(a: KeyedCall[], b: KeyedCall[]): CallSite[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x.key, (left.get(x.key) ?? 0) + 1);
  const out: CallSite[] = [];
  for (const x of a) {
    const n = left.get(x.key) ?? 0;
    if (n > 0) left.set(x.key, n - 1);
    else out.push({ callee: x.callee, offset: x.offset });
  }
  return out;
}

export function compareFunctions(o: ElfSymbol, p: ElfSymbol, origSide: Side, patchedSide: Side): FunctionComparison {
  const oRaw = rawCode(o, origSide);
  const pRaw = rawCode(p, patchedSide);
  // The same bytes and relocation fields (most functions): the same instructions, so only the
  // relocations' targets are left to compare (none without relocations: nothing to decode then).
  if (sameBytes(oRaw.bytes, pRaw.bytes) && sameFields(o, oRaw.relas, p, pRaw.relas)) {
    if (oRaw.relas.length === 0 || sameTargets(() => instructionsOf(o, origSide, oRaw.bytes), o, oRaw.relas, origSide, p, pRaw.relas, patchedSide)) {
      return { same: true, newCallees: [], removedCallees: [], lineOnly: 0 };
    }
  }
  const oc = codeOf(o, origSide, oRaw);
  const pc = codeOf(p, patchedSide, pRaw);
  let lineOnly = 0;
  let first: number | undefined;
  const n = Math.min(oc.insns.length, pc.insns.length);
  for (let i = 0; i < n && first === undefined; i++) {
    const a = oc.insns[i] as Instruction;
    const b = pc.insns[i] as Instruction;
    const same =
      a.length === b.length &&
      sameRange(oc.masked, a.offset, pc.masked, b.offset, a.length) &&
      // no relocation on either side: nothing more to compare (most instructions)
      ((relasIn(oc, a).length === 0 && relasIn(pc, b).length === 0) || insnIdentity(oc, a, origSide).join('|') === insnIdentity(pc, b, patchedSide).join('|'));
    if (same) continue;
    if (a.length === b.length && relasIn(oc, a).length === 0 && relasIn(pc, b).length === 0 && isLineArgument(oc, pc, i, patchedSide)) {
      lineOnly++;
      continue;
    }
    first = i;
  }
  if (first === undefined && oc.insns.length !== pc.insns.length) first = n;
  if (first === undefined) return { same: true, newCallees: [], removedCallees: [], lineOnly };
  const oCalls = callees(oc, origSide);
  const pCalls = callees(pc, patchedSide);
  const diff: InstructionDiff = { offset: (pc.insns[first] ?? oc.insns[first])?.offset ?? 0 };
  const ot = textAt(oc, first);
  const pt = textAt(pc, first);
  if (ot !== undefined) diff.orig = ot;
  if (pt !== undefined) diff.patched = pt;
  return { same: false, firstDifference: diff, newCallees: multisetMinus(pCalls, oCalls), removedCallees: multisetMinus(oCalls, pCalls), lineOnly };
}

/**
 * Two versions of a function or object that differ only in where relocations point (the same
 * bytes outside relocated fields, the fields at the same places): the symbols the patched
 * version's differing relocations reach (sections resolved to the function or object at the
 * place). Undefined when anything else differs.
 */
export function referenceChanges(o: ElfSymbol, p: ElfSymbol, origSide: Side, patchedSide: Side): ElfSymbol[] | undefined {
  if (o.size !== p.size || !o.section || !p.section || o.section.type === SHT_NOBITS || p.section.type === SHT_NOBITS) return undefined;
  const oRaw = rawCode(o, origSide);
  const pRaw = rawCode(p, patchedSide);
  if (!sameFields(o, oRaw.relas, p, pRaw.relas) || !sameBytes(maskRelocatedBytes(oRaw.bytes, oRaw.relas, o.value), maskRelocatedBytes(pRaw.bytes, pRaw.relas, p.value))) return undefined;
  // where each field's instruction ends (a PC-relative field in data means S + A: its own place)
  const ends = (fn: ElfSymbol, raw: { bytes: Uint8Array; relas: ElfRela[] }, side: Side): bigint[] => {
    if (fn.type !== STT_FUNC) return raw.relas.map((r) => r.offset);
    const code = codeOf(fn, side, raw);
    return raw.relas.map((r) => {
      const insn = code.insns.find((i) => Number(r.offset - fn.value) >= i.offset && Number(r.offset - fn.value) < i.offset + i.length);
      return insn ? fn.value + BigInt(insn.offset + insn.length) : r.offset;
    });
  };
  const oEnds = ends(o, oRaw, origSide);
  const pEnds = ends(p, pRaw, patchedSide);
  const changed: ElfSymbol[] = [];
  pRaw.relas.forEach((b, k) => {
    const a = oRaw.relas[k] as ElfRela;
    if (targetIdentity(a, origSide, a.offset, oEnds[k] as bigint) !== targetIdentity(b, patchedSide, b.offset, pEnds[k] as bigint)) changed.push(resolveRelaTarget(b, patchedSide.idx, p.section as ElfSection));
  });
  return changed;
}

/** Data objects: same size, same bytes outside relocated fields, same targets. */
export function compareData(o: ElfSymbol, p: ElfSymbol, origSide: Side, patchedSide: Side): 'same' | 'size' | 'contents' {
  if (o.size !== p.size) return 'size';
  const os = o.section as ElfSection;
  const ps = p.section as ElfSection;
  if ((os.type === SHT_NOBITS) !== (ps.type === SHT_NOBITS)) return 'contents';
  if (os.type === SHT_NOBITS) return 'same';
  const ob = os.data.subarray(Number(o.value), Number(o.value) + o.size);
  const pb = ps.data.subarray(Number(p.value), Number(p.value) + p.size);
  const orel = origSide.idx.findRelasInRange(os, o.value, o.value + BigInt(o.size));
  const prel = patchedSide.idx.findRelasInRange(ps, p.value, p.value + BigInt(p.size));
  if (!sameBytes(maskRelocatedBytes(ob, orel, o.value), maskRelocatedBytes(pb, prel, p.value))) return 'contents';
  const id = (rs: ElfRela[], start: bigint, side: Side): string =>
    rs.map((r) => `${r.offset - start}:${targetIdentity(r, side, r.offset, r.offset)}`).join('|'); // in data a PC-relative field means S + A
  return id(orel, o.value, origSide) === id(prel, p.value, patchedSide) ? 'same' : 'contents';
}

/** The first field that differs between two versions of a data object: `+0x40: now nft_validate (was no pointer)`. */
export function describeDataChange(o: ElfSymbol, p: ElfSymbol, origSide: Side, patchedSide: Side): string {
  if (o.size !== p.size) return `size ${o.size} → ${p.size} bytes`;
  const os = o.section as ElfSection;
  const ps = p.section as ElfSection;
  const fields = (sym: ElfSymbol, sec: ElfSection, side: Side): Map<number, string> =>
    new Map(
      side.idx
        .findRelasInRange(sec, sym.value, sym.value + BigInt(sym.size))
        .map((r) => [Number(r.offset - sym.value), targetIdentity(r, side, r.offset, r.offset).replace(/^[^:]+:/, '').replace(/^(orig|patched)-only:/, '').replace(/\+0$/, '')]),
    );
  const of = fields(o, os, origSide);
  const pf = fields(p, ps, patchedSide);
  const byte = (sec: ElfSection, sym: ElfSymbol, at: number): number => (sec.type === SHT_NOBITS ? 0 : (sec.data[Number(sym.value) + at] ?? 0));
  for (let at = 0; at < p.size; at++) {
    const a = of.get(at);
    const b = pf.get(at);
    if (a !== b) return `+0x${at.toString(16)}: now ${b ?? 'no pointer'} (was ${a ?? 'no pointer'})`;
    if (a === undefined && b === undefined && byte(os, o, at) !== byte(ps, p, at) && ![...pf.keys()].some((f) => at > f && at < f + 8)) return `+0x${at.toString(16)}: value changed`;
  }
  return 'contents changed';
}
