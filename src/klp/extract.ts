import { SHF_ALLOC, SHF_MERGE, SHF_STRINGS, SHF_WRITE, SHT_NOBITS, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION } from '../elf/constants.js';
import { findRelaTarget } from '../arch/x86_64/rela-target.js';
import { createRelocatable } from '../elf/create.js';
import { newCodeSymbol } from '../elf/livepatch.js';
import { addRelaSection, addSection, addSymbol, ensureSectionSymbol, findSymtab } from '../elf/edit.js';
import { buildIndex } from '../elf/lookup.js';
import type { ElfFile, ElfRela, ElfSection, ElfSymbol } from '../elf/model.js';
import { isPerSiteData } from '../diff/sections.js';
import type { CallbackKind, DiffResult } from '../diff/types.js';
import { RebootlessError } from '../errors/index.js';

// The patch object: the changed and new functions of one compiled object,
// the new data and strings they use, and their entries in the side tables
// the kernel needs (exception fixups, bug entries, ORC unwind data,
// alternatives). Every other reference goes to the running kernel: exported
// symbols by name, everything else through a placeholder symbol that the
// post-link step turns into a livepatch relocation.

export type KernelRef = { kind: 'export'; name: string } | { kind: 'klp'; object: string; name: string; sympos: number };

/** A symbol of the running kernel, by the name the original object gave it. */
export interface KernelSymbol {
  name: string;
  local: boolean;
}

export interface ExtractOptions {
  /** How the running kernel provides a symbol the patch does not carry (named as in the original object). */
  resolve: (sym: KernelSymbol) => KernelRef;
  /** Names of the original object's sections: anonymous data in one of them exists in the running kernel. */
  origSections: ReadonlySet<string>;
  /** Makes placeholder names unique when several patch objects go into one module. */
  placeholderBase?: string;
  /** The object as messages name it (`kernel/exit.o`); default: the file's path. */
  objectName?: string;
  /**
   * Globals new in the patch that its objects share (a new file's functions, a new helper one changed file
   * adds and another calls): defined here, they are global under their own name; used here, the module's
   * link resolves them to the patch object that defines them, never to the running kernel.
   */
  patchGlobals?: ReadonlySet<string>;
}

export interface Placeholder {
  placeholder: string;
  object: string;
  name: string;
  sympos: number;
}

export interface PatchObject {
  file: ElfFile;
  /** Functions to redirect: old name (the original object's, for sympos) → the global name of the new code. */
  functions: { oldName: string; newSymbol: string; local: boolean }[];
  /** The callbacks the object registers, each by the global name of its function here. */
  callbacks: { kind: CallbackKind; symbol: string }[];
  placeholders: Placeholder[];
  warnings: string[];
}

/** Side tables carried for the included functions; the others are optional for correctness and skipped (warned). */
const CARRIED_TABLES = ['__ex_table', '__bug_table', '.orc_unwind_ip', '.orc_unwind', '.altinstructions', '__jump_table', '__mcount_loc'];

export const PLACEHOLDER_PREFIX = '__rebootless_klp_';

export function extractPatchObject(patched: ElfFile, diff: DiffResult, o: ExtractOptions): PatchObject {
  const idx = buildIndex(patched);
  const objectName = o.objectName ?? patched.file;
  const out = createRelocatable('patch.o');
  const copied = new Map<ElfSection, ElfSection>();
  const symMap = new Map<ElfSymbol, ElfSymbol>();
  const placeholders = new Map<string, Placeholder>();
  const externals = new Map<string, ElfSymbol>();
  const warnings: string[] = [];
  const pending: ElfSection[] = [];
  const symtabSymbols = findSymtab(patched)?.symbols ?? [];
  const included = new Map(diff.functions.filter((f) => f.include).map((f) => [f.name, f]));
  // new data, and read-only data that changed (the differ refuses changed writable data): the patch brings its own copy
  const newData = new Set(diff.data.filter((d) => d.status === 'new' || d.status === 'changed').map((d) => d.name));
  // what the running kernel calls each symbol: the original's name (gcc renumbers `.constprop.N`, `buf.N` per file)
  const elementsByName = new Map<string, { twin?: string; status: string }>([...diff.functions, ...diff.data].map((e) => [e.name, e]));
  const newSymbolNames = new Set<string>();
  const callbackFunctions = new Set(diff.callbacks.map((c) => c.function));
  const primaryOf = new Map<string, ElfSymbol>();
  for (const fd of included.values()) {
    const primary = symtabSymbols.find((s) => s.name === fd.name && s.type === STT_FUNC && s.section);
    if (primary) for (const alias of fd.aliases ?? []) primaryOf.set(alias, primary);
  }

  const copySection = (sec: ElfSection): ElfSection => {
    const have = copied.get(sec);
    if (have) return have;
    const init = { name: sec.name, type: sec.type, flags: sec.flags, addralign: sec.addralign, entsize: sec.entsize };
    const s = addSection(out, sec.type === SHT_NOBITS ? { ...init, size: sec.size } : { ...init, data: Uint8Array.from(sec.data) });
    copied.set(sec, s);
    pending.push(sec);
    return s;
  };

  const external = (sym: ElfSymbol, from: string): ElfSymbol => {
    if (!sym.section && sym.bind !== STB_LOCAL && o.patchGlobals?.has(sym.name)) return shared(sym.name);
    const element = sym.section ? elementsByName.get(sym.name) : undefined;
    // defined here but not in the original: the running kernel has no such symbol, whatever its name
    if (element && element.status === 'new') throw new RebootlessError('BUILD_REFERENCE_UNRESOLVED', { object: objectName, from, target: sym.name, why: 'it is new in the patched object but not carried into the patch' });
    const ref = o.resolve({ name: element?.twin ?? sym.name, local: sym.bind === STB_LOCAL });
    const key = ref.kind === 'export' ? `export:${ref.name}` : `${ref.object}:${ref.name}:${ref.sympos}`;
    const have = externals.get(key);
    if (have) return have;
    const name = ref.kind === 'export' ? ref.name : `${PLACEHOLDER_PREFIX}${o.placeholderBase ?? ''}${placeholders.size}`;
    if (ref.kind === 'klp') placeholders.set(name, { placeholder: name, object: ref.object, name: ref.name, sympos: ref.sympos });
    const s = addSymbol(out, { name, bind: STB_GLOBAL, type: STT_NOTYPE });
    externals.set(key, s);
    return s;
  };

  /** A global another patch object defines: an undefined symbol of its name, resolved by the module's link. */
  const shared = (name: string): ElfSymbol => {
    const key = `patch:${name}`;
    let s = externals.get(key);
    if (!s) externals.set(key, (s = addSymbol(out, { name, bind: STB_GLOBAL, type: STT_NOTYPE })));
    return s;
  };

  /** Where a relocation at `r` in `base` comes from, for messages: `function+0x12`. */
  const origin = (base: ElfSection, r: ElfRela): string => {
    const fn = idx.findSymbolContaining(base, r.offset);
    return fn && fn.type !== STT_SECTION ? `${fn.name}+0x${(r.offset - fn.value).toString(16)}` : `${base.name}+0x${r.offset.toString(16)}`;
  };

  /**
   * A relocation target in the output: our copy, or the kernel's. References
   * through section symbols are resolved to the function or object at the
   * place they mean first; only anonymous code, constants and data that is
   * new are copied. Existing data is never copied: the patch must use the
   * kernel's.
   */
  const target = (base: ElfSection, r: ElfRela): { symbol: ElfSymbol; addend: bigint } => {
    const t = r.symbol;
    if (!t.section || (t.type !== STT_SECTION && t.type !== STT_NOTYPE)) return ref(t, r.addend, origin(base, r));
    const sec = t.section;
    const where = findRelaTarget(idx, r, base);
    if (where.symbol !== t && where.symbol.type !== STT_SECTION) return ref(where.symbol, t.value + r.addend - where.symbol.value, origin(base, r));
    const copy = (): { symbol: ElfSymbol; addend: bigint } => ({ symbol: ensureSectionSymbol(out, copySection(sec)), addend: t.value + r.addend });
    if (copied.has(sec) || (sec.flags & (SHF_STRINGS | SHF_MERGE)) !== 0n || sectionCarried(sec)) return copy();
    // anonymous code (alternative replacements) and read-only tables (switch jump tables) hold no state
    const writable = (sec.flags & SHF_WRITE) !== 0n || sec.type === SHT_NOBITS;
    if (!writable || !o.origSections.has(sec.name) || isPerSiteData(sec.name)) return copy();
    throw new RebootlessError('BUILD_REFERENCE_UNRESOLVED', {
      object: objectName,
      from: origin(base, r),
      target: `${sec.name}+0x${where.offset.toString(16)}`,
      why: 'no variable is defined at that place, and the section holds data the running kernel already has (copying it would give the patch a private copy of kernel state)',
    });
  };

  const sectionCarried = (sec: ElfSection): boolean =>
    idx.findSymbolsBySection(sec).some((s) => (s.type === STT_FUNC && included.has(s.name)) || (s.type === STT_OBJECT && carriesData(s)));

  const carriesData = (s: ElfSymbol): boolean => newData.has(s.name) || diff.data.some((d) => d.name === s.name && d.special);

  const ref = (sym: ElfSymbol, addend: bigint, from: string): { symbol: ElfSymbol; addend: bigint } => {
    // another name of an included body (`__x64_sys_x` = `__ia32_sys_x`) is that body: our copy
    const t = (sym.type === STT_FUNC && primaryOf.get(sym.name)) || sym;
    if (t.section && t.type === STT_FUNC && included.has(t.name)) return { symbol: functionSymbol(t), addend };
    if (t.section && t.type === STT_OBJECT && carriesData(t)) return { symbol: ensureSectionSymbol(out, copySection(t.section)), addend: t.value + addend };
    return { symbol: external(t, from), addend };
  };

  const functionSymbol = (t: ElfSymbol): ElfSymbol => {
    const have = symMap.get(t);
    if (have) return have;
    const sec = copySection(t.section as ElfSection);
    const fd = included.get(t.name);
    // livepatch.c names what it redirects to and the callbacks: those are global
    const sharedNew = fd?.status === 'new' && !fd.local && o.patchGlobals?.has(t.name) === true;
    const global = sharedNew || fd?.include === 'patch' || callbackFunctions.has(t.name);
    let name = global && !sharedNew ? newCodeSymbol(t.name) : t.name;
    // two names that differ only in characters C does not allow (`f.part.0`, `f_part_0`) stay apart
    if (global && !sharedNew) for (let n = 1; newSymbolNames.has(name); n++) name = `${newCodeSymbol(t.name)}_${n}`;
    if (global) newSymbolNames.add(name);
    const s = addSymbol(out, {
      name,
      value: t.value,
      size: t.size,
      bind: global ? STB_GLOBAL : STB_LOCAL,
      type: STT_FUNC,
      section: sec,
    });
    symMap.set(t, s);
    return s;
  };

  // the functions, then everything they pull in
  const functions: PatchObject['functions'] = [];
  for (const fd of included.values()) {
    const sym = symtabSymbols.find((s) => s.name === fd.name && s.type === STT_FUNC && s.section);
    if (!sym) continue;
    const ns = functionSymbol(sym);
    if (fd.include === 'patch') functions.push({ oldName: fd.twin ?? fd.name, newSymbol: ns.name, local: fd.local });
  }
  // new global data other patch objects use: our copy, under its own name
  for (const d of diff.data) {
    const sym = d.status === 'new' && o.patchGlobals?.has(d.name) ? symtabSymbols.find((s) => s.name === d.name && s.type === STT_OBJECT && s.section && s.bind !== STB_LOCAL) : undefined;
    if (sym) addSymbol(out, { name: sym.name, value: sym.value, size: sym.size, bind: STB_GLOBAL, type: STT_OBJECT, section: copySection(sym.section as ElfSection) });
  }
  const callbacks = diff.callbacks.flatMap((c) => {
    const sym = symtabSymbols.find((s) => s.name === c.function && s.type === STT_FUNC && s.section);
    return sym ? [{ kind: c.kind, symbol: functionSymbol(sym).name }] : [];
  });
  drain();

  // side tables: the entries of the included functions
  for (const table of CARRIED_TABLES) {
    const srcSec = idx.findSectionByName(table);
    if (!srcSec) continue;
    const entries = [...included.keys()].flatMap((fn) => (diff.specialEntries[fn] ?? []).filter((g) => g.section === table).flatMap((g) => g.entries));
    if (!entries.length) continue;
    entries.sort((a, b) => a.offset - b.offset);
    const bytes = new Uint8Array(entries.reduce((n, e) => n + e.size, 0));
    const outSec = addSection(out, { name: table, type: srcSec.type, flags: srcSec.flags | SHF_ALLOC, addralign: srcSec.addralign, entsize: srcSec.entsize, data: bytes });
    const relas: ElfRela[] = [];
    let at = 0;
    for (const e of entries) {
      bytes.set(srcSec.data.subarray(e.offset, e.offset + e.size), at);
      for (const r of idx.findRelasInRange(srcSec, e.offset, e.offset + e.size)) {
        const t = target(srcSec, r);
        // The module loader sets up the module's static branches once its relocations are
        // applied. Those against vmlinux include the livepatch ones (the loader applies
        // `.klp.rela.vmlinux.*` itself since Linux 5.8), so a branch on a key vmlinux does
        // not export works; a key in a module is resolved only when that module loads,
        // after the branches were set up.
        const p = table === '__jump_table' ? placeholders.get(t.symbol.name) : undefined;
        if (p && p.object !== 'vmlinux') throw new RebootlessError('BUILD_STATIC_BRANCH', { object: objectName, key: p.name, owner: p.object });
        relas.push({ offset: BigInt(at) + (r.offset - BigInt(e.offset)), type: r.type, symbol: t.symbol, addend: t.addend });
      }
      at += e.size;
    }
    outSec.data = bytes;
    if (relas.length) addRelaSection(out, outSec, relas);
    drain();
  }
  const skipped = new Set(Object.values(diff.specialEntries).flat().map((g) => g.section).filter((s) => !CARRIED_TABLES.includes(s)));
  for (const s of skipped) warnings.push(`entries in ${s} are not carried (the kernel runs the patched code without them)`);

  function drain(): void {
    while (pending.length) {
      const sec = pending.shift() as ElfSection;
      const outSec = copied.get(sec) as ElfSection;
      const relas = idx.findRelasBySection(sec).map((r) => {
        const t = target(sec, r);
        return { offset: r.offset, type: r.type, symbol: t.symbol, addend: t.addend };
      });
      if (relas.length) addRelaSection(out, outSec, relas);
    }
  }

  return { file: out, functions, callbacks, placeholders: [...placeholders.values()], warnings };
}

