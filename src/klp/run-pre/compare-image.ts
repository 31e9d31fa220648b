import { fieldToInstructionEnd, findRelaTarget } from '../../arch/x86_64/rela-target.js';
import { relocationType } from '../../arch/x86_64/relocations.js';
import { SHF_MERGE, SHF_STRINGS, STB_LOCAL, STT_SECTION } from '../../elf/constants.js';
import type { ElfRela, ElfSection, ElfSymbol } from '../../elf/model.js';
import { instructionStart, instructionText, firstDifference, relocatedMask, cString, sameSectionKind } from './bytes.js';
import type { LinkedImage } from './image.js';
import { noRelocations, type Bound, type Comparison, type CompiledFunction, type RelocationCounts } from './types.js';

// A compiled function against a function of the linked vmlinux: the same
// length, the same bytes outside relocated fields, and every relocated field
// reaching the same entity the compiled relocation names (the symbol of that
// name at exactly that place, the same string, or for anonymous data the
// same kind of section). The locals the code reaches are bound as a side
// effect: that is symbol resolution by code.

/** The value a relocated field holds in the linked image, sign-extended as the type reads it. */
function fieldValue(bytes: Uint8Array, at: number, width: number, signed: boolean): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, width);
  if (width === 8) return view.getBigInt64(0, true);
  if (width === 4) return BigInt(signed ? view.getInt32(0, true) : view.getUint32(0, true));
  if (width === 2) return BigInt(signed ? view.getInt16(0, true) : view.getUint16(0, true));
  return BigInt(signed ? view.getInt8(0) : view.getUint8(0));
}

/** How a message names an address of the image: `symbol+0x10`, else its section. */
function describe(image: LinkedImage, address: bigint): string {
  const s = image.symbolsAt(address)[0];
  if (s) return address === s.value ? s.name : `${s.name}+0x${(address - s.value).toString(16)}`;
  const sec = image.sectionAt(address);
  return `0x${address.toString(16)}${sec ? ` in ${sec.name}` : ' (outside every section)'}`;
}

interface Field {
  rela: ElfRela;
  /** Offset of the field in the function. */
  at: number;
  /** The address the running code reaches through it. */
  reached: bigint;
}

export async function compareWithImage(c: CompiledFunction, candidate: ElfSymbol, image: LinkedImage): Promise<Comparison> {
  const sec = c.fn.section as ElfSection;
  const start = c.fn.value;
  const code = sec.data.subarray(Number(start), Number(start) + c.fn.size);
  const running = await image.read(candidate.value, candidate.size);
  const relas = c.idx.findRelasInRange(sec, start, start + BigInt(c.fn.size));
  const mismatch = (offset: number, why: string): Comparison => ({
    ok: false,
    mismatch: { offset: instructionStart(code, offset), compiled: instructionText(code, offset, 0n), running: instructionText(running, offset, candidate.value), why },
  });
  if (running.length !== code.length) {
    return mismatch(Math.min(firstDifference(code, running, new Uint8Array(0)) ?? code.length, Math.max(0, Math.min(code.length, running.length) - 1)), `${code.length} bytes compiled, ${running.length} in the kernel`);
  }
  const mask = relocatedMask(code.length, relas, start);
  const diff = firstDifference(code, running, mask);
  if (diff !== undefined) return mismatch(diff, 'the instruction differs');

  const fields: Field[] = [];
  for (const r of relas) {
    const info = relocationType(r.type);
    if (!info || info.width === 0) continue;
    const at = Number(r.offset - start);
    if (at < 0 || at + info.width > code.length) return mismatch(Math.max(0, at), `a relocation (${info.name}) crosses the function's end`);
    const value = fieldValue(running, at, info.width, info.pcRelative || info.name.endsWith('32S') || info.width === 8);
    const reached = BigInt.asUintN(64, info.pcRelative ? candidate.value + BigInt(at) + fieldToInstructionEnd(c.idx, sec, r) + value : value);
    fields.push({ rela: r, at, reached });
  }

  const bound: Bound[] = [];
  const relocations: RelocationCounts = noRelocations();
  for (const f of fields) {
    const t = findRelaTarget(c.idx, f.rela, sec);
    if (t.symbol.type !== STT_SECTION) {
      const want = t.symbol.name;
      const hit = image.symbolsNamed(want).find((s) => s.value + t.addend === f.reached);
      if (!hit) return mismatch(f.at, `compiled code reaches ${want}${t.addend ? `+0x${t.addend.toString(16)}` : ''} here, the kernel's reaches ${describe(image, f.reached)}`);
      relocations.symbol++;
      if (t.symbol.bind === STB_LOCAL) bound.push({ name: want, target: hit });
      continue;
    }
    const target = t.section;
    if (target && (target.flags & SHF_MERGE) !== 0n && (target.flags & SHF_STRINGS) !== 0n) {
      const text = cString(target.data, Number(t.offset));
      const there = await image.read(f.reached, text.length + 1);
      if (there.length !== text.length + 1 || there[text.length] !== 0 || !text.every((b, i) => there[i] === b)) {
        return mismatch(f.at, `compiled code reads the string "${Buffer.from(text).toString('latin1')}" here, the kernel's reads other bytes (${describe(image, f.reached)})`);
      }
      relocations.string++;
      continue;
    }
    const landed = image.sectionAt(f.reached);
    if (!target || !landed || !sameSectionKind(target.name, landed.name)) {
      return mismatch(f.at, `compiled code reaches ${target?.name ?? '?'}+0x${t.offset.toString(16)} here, the kernel's reaches ${describe(image, f.reached)}`);
    }
    relocations.section++;
  }
  return { ok: true, bound, relocations };
}
