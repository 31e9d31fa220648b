import { fieldToInstructionEnd, findRelaTarget, findSymbolAt, type RelaTarget } from '../../arch/x86_64/rela-target.js';
import { relocationType, relocationTypeName } from '../../arch/x86_64/relocations.js';
import { SHF_MERGE, SHF_STRINGS, STB_LOCAL, STT_SECTION } from '../../elf/constants.js';
import type { ElfIndex } from '../../elf/lookup.js';
import type { ElfRela, ElfSection, ElfSymbol } from '../../elf/model.js';
import { cString, firstDifference, instructionStart, instructionText, relocatedMask, sameSectionKind } from './bytes.js';
import { noRelocations, type Bound, type Comparison, type CompiledFunction, type RelocationCounts } from './types.js';

// A compiled function against a function of the release's module file (a
// relocatable object, as loaded): the same length, the same bytes outside
// both sides' relocated fields, and relocations at the same places, of the
// same types, reaching the same entities.

const isString = (s: ElfSection | null): s is ElfSection => s !== null && (s.flags & SHF_MERGE) !== 0n && (s.flags & SHF_STRINGS) !== 0n;

const describe = (t: RelaTarget): string =>
  t.symbol.type === STT_SECTION ? `${t.section?.name ?? '?'}+0x${t.offset.toString(16)}` : `${t.symbol.name}${t.addend ? `+0x${t.addend.toString(16)}` : ''}`;

/** Whether two relocation targets are the same entity; the kind of proof, or undefined. */
function sameTarget(a: RelaTarget, b: RelaTarget): keyof RelocationCounts | undefined {
  const aNamed = a.symbol.type !== STT_SECTION;
  const bNamed = b.symbol.type !== STT_SECTION;
  if (aNamed || bNamed) return aNamed && bNamed && a.symbol.name === b.symbol.name && a.addend === b.addend ? 'symbol' : undefined;
  if (isString(a.section) && isString(b.section)) {
    const x = cString(a.section.data, Number(a.offset));
    const y = cString(b.section.data, Number(b.offset));
    return x.length === y.length && x.every((v, i) => y[i] === v) ? 'string' : undefined;
  }
  return a.section && b.section && sameSectionKind(a.section.name, b.section.name) ? 'section' : undefined;
}

/** A PC-relative relocation of ours that the module's object resolved when it was assembled: what its bytes reach, compared. */
function resolvedInPlace(
  c: CompiledFunction,
  r: ElfRela,
  sec: ElfSection,
  theirs: Uint8Array,
  candidate: ElfSymbol,
  target: ElfIndex,
): { kind: keyof RelocationCounts; bound?: Bound } | undefined {
  const info = relocationType(r.type);
  if (!info?.pcRelative || info.width !== 4) return undefined;
  const at = Number(r.offset - c.fn.value);
  const value = BigInt(new DataView(theirs.buffer, theirs.byteOffset + at, 4).getInt32(0, true));
  const tsec = candidate.section as ElfSection;
  const reached = candidate.value + BigInt(at) + fieldToInstructionEnd(c.idx, sec, r) + value;
  if (reached < 0n || reached > BigInt(tsec.size)) return undefined;
  const ours = findRelaTarget(c.idx, r, sec);
  const there = findSymbolAt(target, tsec, reached);
  if (!there || ours.symbol.type === STT_SECTION || there.name !== ours.symbol.name || reached - there.value !== ours.addend) return undefined;
  return { kind: 'symbol', ...(ours.symbol.bind === STB_LOCAL ? { bound: { name: ours.symbol.name, target: there } } : {}) };
}

export function compareWithObject(c: CompiledFunction, candidate: ElfSymbol, target: ElfIndex): Comparison {
  const sec = c.fn.section as ElfSection;
  const tsec = candidate.section as ElfSection;
  const code = sec.data.subarray(Number(c.fn.value), Number(c.fn.value) + c.fn.size);
  const theirs = tsec.data.subarray(Number(candidate.value), Number(candidate.value) + candidate.size);
  const mismatch = (offset: number, why: string): Comparison => ({
    ok: false,
    mismatch: { offset: instructionStart(code, offset), compiled: instructionText(code, offset, 0n), running: instructionText(theirs, offset, 0n), why },
  });
  if (code.length !== theirs.length) return mismatch(Math.max(0, Math.min(code.length, theirs.length) - 1), `${code.length} bytes compiled, ${theirs.length} in the module`);
  const ours = c.idx.findRelasInRange(sec, c.fn.value, c.fn.value + BigInt(c.fn.size));
  const their = target.findRelasInRange(tsec, candidate.value, candidate.value + BigInt(candidate.size));
  const mask = relocatedMask(code.length, ours, c.fn.value);
  relocatedMask(code.length, their, candidate.value).forEach((m, i) => (mask[i] = mask[i] || m));
  const diff = firstDifference(code, theirs, mask);
  if (diff !== undefined) return mismatch(diff, 'the instruction differs');

  const byOffset = new Map<number, ElfRela>(their.map((r) => [Number(r.offset - candidate.value), r]));
  const bound: Bound[] = [];
  const relocations = noRelocations();
  for (const r of ours) {
    const at = Number(r.offset - c.fn.value);
    const other = byOffset.get(at);
    byOffset.delete(at);
    if (!other) {
      // the module's assembler resolved a branch within one section (kbuild compiles modules without
      // -ffunction-sections): the place its bytes reach must be what the relocation names
      const proof = resolvedInPlace(c, r, sec, theirs, candidate, target);
      if (proof) {
        relocations[proof.kind]++;
        if (proof.bound) bound.push(proof.bound);
        continue;
      }
    }
    if (!other || other.type !== r.type) {
      return mismatch(at, `compiled code has a ${relocationTypeName(r.type)} relocation here, the module ${other ? `a ${relocationTypeName(other.type)}` : 'none'}`);
    }
    const a = findRelaTarget(c.idx, r, sec);
    const b = findRelaTarget(target, other, tsec);
    const proof = sameTarget(a, b);
    if (!proof) return mismatch(at, `compiled code reaches ${describe(a)} here, the module's reaches ${describe(b)}`);
    relocations[proof]++;
    if (proof === 'symbol' && a.symbol.bind === STB_LOCAL && b.symbol.section) bound.push({ name: a.symbol.name, target: b.symbol });
  }
  const extra = [...byOffset.keys()].sort((x, y) => x - y)[0];
  if (extra !== undefined) return mismatch(extra, 'the module has a relocation here that compiled code does not');
  return { ok: true, bound, relocations };
}
