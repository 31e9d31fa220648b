import { findRelaTarget } from '../../arch/x86_64/rela-target.js';
import { maskRelocatedBytes, relocationWidth } from '../../arch/x86_64/relocations.js';
import type { ElfSection, ElfSymbol } from '../../elf/model.js';
import { cString, targetIdentity, type Side } from '../compare.js';
import { SHF_STRINGS, SHT_NOBITS, STT_FUNC } from '../../elf/constants.js';
import { entrySize, fieldTarget, specialSection } from '../special.js';
import type { SpecialEntry } from '../types.js';
import type { DiffState } from './state.js';

// Part of propagate: a function whose bytes are the same can still behave
// differently through its entries in the side tables the kernel acts on: a
// static branch's key or type (`__jump_table`), an alternative's CPU feature
// (`.altinstructions`), an exception fixup's type (`__ex_table`), WARN versus
// BUG (`__bug_table` flags). Compare each same function's entries with its
// twin's: fields that point into the function by their offset in it, other
// pointers by what they point at, plain fields by value, except the line
// number that follows a bug entry's file name.

const COMPARED_TABLES = ['__jump_table', '.altinstructions', '__ex_table', '__bug_table'];

function entrySignature(fn: ElfSymbol, table: ElfSection, e: SpecialEntry, side: Side): string {
  const relas = side.idx.findRelasInRange(table, e.offset, e.offset + e.size);
  const bytes = maskRelocatedBytes(table.data.subarray(e.offset, e.offset + e.size), relas, BigInt(e.offset));
  const fields: string[] = [];
  for (const r of relas) {
    const at = Number(r.offset) - e.offset;
    const t = findRelaTarget(side.idx, r, table);
    let id: string;
    if (t.section && t.section === fn.section && t.offset >= fn.value && t.offset < fn.value + BigInt(Math.max(1, fn.size))) id = `self+${t.offset - fn.value}`;
    else if (t.section && specialSection(t.section.name)) id = `in ${t.section.name}`; // replacement code: moves with every other alternative
    else if (t.section && (t.section.flags & SHF_STRINGS) !== 0n && t.section.type !== SHT_NOBITS) id = `str:${JSON.stringify(cString(t.section.data, Number(t.offset)))}`;
    else id = targetIdentity(r, side, r.offset, r.offset);
    // `file, line`: the 16-bit line after a bug entry's file name moves with every edit above it
    if (table.name === '__bug_table' && id.startsWith('str:')) bytes.fill(0, at + relocationWidth(r.type), at + relocationWidth(r.type) + 2);
    fields.push(`${at}:${id}`);
  }
  return `${Buffer.from(bytes).toString('hex')}|${fields.join(',')}`;
}

/** A static branch entry whose jump lands on the branch itself changes nothing, whichever way the key goes. */
function isDegenerate(table: string, sig: string): boolean {
  if (table !== '__jump_table') return false;
  const self = sig.split('|')[1]?.split(',').filter((f) => / ?self\+/.test(f)).map((f) => f.replace(/^\d+:/, ''));
  return self?.length === 2 && self[0] === self[1];
}

/** Each function's entries in `table`, found with one walk over the table: owner → signatures. */
function signaturesByOwner(side: Side, table: string): Map<ElfSymbol, string[]> {
  const out = new Map<ElfSymbol, string[]>();
  const sec = side.idx.findSectionByName(table);
  const spec = specialSection(table);
  const size = sec ? entrySize(side.idx.file, side.idx, sec) : undefined;
  if (!sec || !size || spec?.ownerField === null || spec?.ownerField === undefined) return out;
  for (let at = 0; at + size <= sec.size; at += size) {
    const r = side.idx.findRelaByOffset(sec, at + spec.ownerField);
    if (!r) continue;
    const t = fieldTarget(r);
    const owner = t.section ? side.idx.findSymbolContaining(t.section, t.offset) : undefined;
    if (!owner || owner.type !== STT_FUNC) continue;
    const sig = entrySignature(owner, sec, { offset: at, size }, side);
    if (isDegenerate(table, sig)) continue;
    const list = out.get(owner) ?? [];
    list.push(sig);
    out.set(owner, list);
  }
  return out;
}

/** Marks same functions whose side-table entries differ from their twin's as changed. */
export function compareSideTables(state: DiffState): void {
  const tables = COMPARED_TABLES.map((t) => ({ name: t, orig: signaturesByOwner(state.oSide, t), patched: signaturesByOwner(state.pSide, t) }));
  for (const [p, fd] of state.functions) {
    if (fd.status !== 'same') continue;
    const o = state.twins.backward.get(p);
    if (!o) continue;
    const table = tables.find((t) => (t.orig.get(o) ?? []).join('\n') !== (t.patched.get(p) ?? []).join('\n'))?.name;
    if (table) {
      fd.status = 'changed';
      fd.because = `its ${table} entries changed`;
    }
  }
}
