import { R_X86_64_64 } from './constants.js';
import { buildIndex } from './lookup.js';
import type { ElfFile, ElfRela, ElfSection, ElfSymbol } from './model.js';
import { isAllocSection, isFunction, isTextSection } from './predicates.js';

// Reads the klp_patch / klp_object / klp_func tables out of a livepatch
// module's data, without the kernel's struct sizes: only the leading fields,
// whose layout every kernel since 5.5 shares, are read, and array strides are
// inferred from where the relocations fall.
//
//   klp_func   { const char *old_name; void *new_func; unsigned long old_sympos; ... }
//   klp_object { const char *name (NULL = vmlinux); struct klp_func *funcs; ... }
//   klp_patch  { struct module *mod; struct klp_object *objs; void *states; bool replace; ... }
//
// A klp_func entry is recognised as a string pointer followed by a code
// pointer; a klp_object as a pointer to a klp_func entry; the klp_patch as a
// pointer to __this_module followed by a pointer to the objects.

export interface KlpTableFunc {
  name: string;
  sympos: number;
}

export interface KlpTableObject {
  /** 'vmlinux' or the module name. */
  name: string;
  functions: KlpTableFunc[];
}

/** Where a klp_func's new_func points in the module. */
export interface KlpNewCode {
  section: ElfSection;
  offset: number;
  /** The relocation's symbol (the new function's own symbol, or a section symbol). */
  symbol: ElfSymbol;
}

export interface KlpTables {
  objects: KlpTableObject[];
  /** undefined when the klp_patch structure was not found. */
  replace: boolean | undefined;
  /** The new code of each klp_func entry of `objects` (not kept in records: it points into the model). */
  newCode: Map<KlpTableFunc, KlpNewCode>;
}

interface Target {
  section: ElfSection;
  offset: number;
}

const targetOf = (r: ElfRela): Target | undefined =>
  r.type === R_X86_64_64 && r.symbol.section ? { section: r.symbol.section, offset: Number(r.symbol.value + r.addend) } : undefined;

function cString(t: Target): string | undefined {
  if (t.section.type === 8 /* SHT_NOBITS */ || isTextSection(t.section)) return undefined;
  const data = t.section.data;
  const end = data.indexOf(0, t.offset);
  if (t.offset >= data.length || end <= t.offset) return undefined;
  const s = new TextDecoder().decode(data.subarray(t.offset, end));
  return /^[\x21-\x7e]+$/.test(s) ? s : undefined;
}

const readU64 = (s: ElfSection, at: number): bigint =>
  at + 8 <= s.data.length ? new DataView(s.data.buffer, s.data.byteOffset + at, 8).getBigUint64(0, true) : 0n;

export function readKlpTables(file: ElfFile): KlpTables {
  const idx = buildIndex(file);
  const newCode = new Map<KlpTableFunc, KlpNewCode>();
  /** base section → offset → relocation */
  const relocs = new Map<ElfSection, Map<number, ElfRela>>();
  const relocAt = (s: ElfSection, at: number): ElfRela | undefined => {
    let m = relocs.get(s);
    if (!m) {
      m = new Map(idx.findRelasBySection(s).map((r) => [Number(r.offset), r]));
      relocs.set(s, m);
    }
    return m.get(at);
  };
  const target = (s: ElfSection, at: number): Target | undefined => {
    const r = relocAt(s, at);
    return r ? targetOf(r) : undefined;
  };
  /** A klp_func entry starts here: old_name → string, new_func → code. */
  const funcAt = (s: ElfSection, at: number): KlpTableFunc | undefined => {
    const name = target(s, at);
    const code = relocAt(s, at + 8);
    if (!name || !code) return undefined;
    const str = cString(name);
    const isCode = isFunction(code.symbol) || (code.symbol.section !== null && isTextSection(code.symbol.section));
    if (!str || !isCode) return undefined;
    const f = { name: str, sympos: Number(readU64(s, at + 16)) };
    const t = targetOf(code);
    if (t) newCode.set(f, { ...t, symbol: code.symbol });
    return f;
  };

  const dataSections = file.sections.filter((s) => isAllocSection(s) && !isTextSection(s) && idx.findRelaSectionFor(s));
  // Every pointer to a klp_func array start is a klp_object's .funcs.
  const objectSlots: { section: ElfSection; at: number; funcs: Target }[] = [];
  for (const s of dataSections) {
    for (const r of idx.findRelasBySection(s)) {
      const t = targetOf(r);
      if (t && funcAt(t.section, t.offset)) objectSlots.push({ section: s, at: Number(r.offset) - 8, funcs: t });
    }
  }
  const arrayStarts = new Set(objectSlots.map((o) => `${o.funcs.section.index}:${o.funcs.offset}`));

  const readFuncs = (t: Target): KlpTableFunc[] => {
    const sym = idx.findSymbolContaining(t.section, t.offset);
    const end = sym && sym.section === t.section ? Number(sym.value) + sym.size : t.section.size;
    const first = funcAt(t.section, t.offset)!;
    const out = [first];
    // The stride is the distance to the next entry; later entries must keep it.
    let stride = 0;
    for (let at = t.offset + 24; at < end && stride === 0; at += 8) {
      if (arrayStarts.has(`${t.section.index}:${at}`)) break;
      if (funcAt(t.section, at)) stride = at - t.offset;
    }
    for (let at = t.offset + stride; stride > 0 && at < end; at += stride) {
      if (arrayStarts.has(`${t.section.index}:${at}`)) break;
      const f = funcAt(t.section, at);
      if (!f) break;
      out.push(f);
    }
    return out;
  };

  const objects = objectSlots
    .sort((a, b) => a.section.index - b.section.index || a.at - b.at)
    .map((o) => {
      const nameTarget = o.at >= 0 ? target(o.section, o.at) : undefined;
      return { name: (nameTarget && cString(nameTarget)) ?? 'vmlinux', functions: readFuncs(o.funcs) };
    });

  // klp_patch: .mod → __this_module, .objs → the first object slot.
  let replace: boolean | undefined;
  const first = objectSlots[0];
  for (const s of dataSections) {
    for (const r of idx.findRelasBySection(s)) {
      if (r.symbol.name !== '__this_module') continue;
      const objs = target(s, Number(r.offset) + 8);
      if (first && objs && objs.section === first.section && objs.offset === first.at) replace = s.data[Number(r.offset) + 24] === 1;
    }
  }
  if (objects.length === 0) return { objects: readKpatchFuncs(file, target), replace, newCode };
  return { objects, replace, newCode };
}

/**
 * kpatch-built modules fill their klp tables at load time from `.kpatch.funcs`:
 *   { new_addr, new_size, old_addr, old_size, sympos, const char *name, const char *objname } (7 × 8 bytes)
 */
function readKpatchFuncs(file: ElfFile, target: (s: ElfSection, at: number) => Target | undefined): KlpTableObject[] {
  const s = file.sections.find((x) => x.name === '.kpatch.funcs');
  if (!s) return [];
  const byObject = new Map<string, KlpTableFunc[]>();
  for (let at = 0; at + 56 <= s.size; at += 56) {
    const name = target(s, at + 40);
    const obj = target(s, at + 48);
    const fn = name && cString(name);
    if (!fn) continue;
    const objName = (obj && cString(obj)) ?? 'vmlinux';
    byObject.set(objName, [...(byObject.get(objName) ?? []), { name: fn, sympos: Number(readU64(s, at + 32)) }]);
  }
  return [...byObject].map(([name, functions]) => ({ name, functions }));
}
