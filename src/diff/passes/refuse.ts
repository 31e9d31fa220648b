import { R_X86_64_PC32, R_X86_64_PLT32, SHF_MERGE, SHF_STRINGS, SHT_GROUP, STT_FUNC, STT_OBJECT } from '../../elf/constants.js';
import type { ElfSymbol } from '../../elf/model.js';
import type { Reference } from '../references.js';
import { referenceChanges } from '../compare.js';
import { isSpecialStatic } from '../names.js';
import { refusal } from '../refusals.js';
import { ignorable, isExportSection, isInit, sameContents } from '../sections.js';
import { localKeysOf } from '../special.js';
import type { DiffState } from './state.js';

// Pass 6, refuse: init code, exports, module-keyed static branches, COMDAT
// groups, and allocated sections nobody owns that changed.

/**
 * Init and exit code and data that changed. They have run (or run only at
 * unload) and the patch never replaces them; what matters is why they
 * changed. When the only difference is where references point, and each
 * such reference now reaches a function the patch brings (a helper the fix
 * renamed or gcc cloned, a table entry that names the new function), the
 * change is a consequence of the rest of the patch: left, with a warning.
 * Any other change (what the code does, a value, a reference to something
 * the patch does not change) is refused.
 */
function refuseInitChanges(state: DiffState): void {
  const { functions, data, twins, oSide, pSide } = state;
  const brought = (t: ElfSymbol): boolean => {
    const fd = t.type === STT_FUNC ? functions.get(t) : undefined;
    return fd !== undefined && fd.include !== undefined && (fd.status === 'new' || fd.status === 'changed');
  };
  const judge = (p: ElfSymbol, name: string, section: string, what: string): void => {
    const o = twins.backward.get(p);
    const targets = o ? referenceChanges(o, p, oSide, pSide) : undefined;
    // an address of code new in the patch (not a call): what init code stored at boot still names the old code,
    // so the new one would never run (a renamed handler it registered)
    const stored = (targets ?? []).filter((t) => t.type === STT_FUNC && functions.get(t)?.status === 'new' && state.graph.usersOf(t).some((r) => r.from === p && !isBranch(r)));
    if (stored.length) {
      const names = [...new Set(stored.map((t) => t.name))].join(', ');
      state.refusals.push(
        refusal('INIT_CHANGED', name, `${what} changed: it now takes the address of ${names}, new in the patch; what it stored when it ran still names the released code, so ${names} would never run (keep the function's name and change it in place)`, { section }),
      );
      return;
    }
    if (targets && targets.length > 0 && targets.every(brought)) {
      const names = [...new Set(targets.map((t) => t.name))].join(', ');
      state.warnings.push(`${name} (${section}) changed only in its references to ${names}, which the patch brings: it has run, and is left as it is`);
      return;
    }
    const other = [...new Set((targets ?? []).filter((t) => !brought(t)).map((t) => t.name))];
    // the same bytes and references: changed by an earlier pass, which said why
    const because = p.type === STT_FUNC ? functions.get(p)?.because : undefined;
    const why = other.length ? `: it now refers to ${other.join(', ')}, which the patch does not bring` : targets?.length === 0 && because ? ` (${because})` : ' (what it does, not only where it refers to)';
    state.refusals.push(refusal('INIT_CHANGED', name, `${what} changed${why}`, { section }));
  };
  for (const [sym, fd] of functions) if (fd.status === 'changed' && isInit(sym.section)) judge(sym, fd.name, fd.section, `${fd.name} is ${fd.section} code and`);
  for (const [sym, d] of data) if (d.status === 'changed' && isInit(sym.section)) judge(sym, d.name, d.section, `init data ${d.name}`);
}

/** A call or jump (`e8`/`e9` rel32) to its target, as opposed to its address taken or stored. */
function isBranch(r: Reference): boolean {
  const t = r.rela.type;
  const at = Number(r.rela.offset) - 1;
  return (t === R_X86_64_PLT32 || t === R_X86_64_PC32) && at >= 0 && (r.section.data[at] === 0xe8 || r.section.data[at] === 0xe9);
}

/** Sections whose entries the kernel calls once at boot. */
const BOOT_REGISTRY = /^\.(initcall|con_initcall|security_initcall|init\.setup)/;

export function refuseUnpatchable(state: DiffState): void {
  const { functions, options, patched, pi, twins } = state;
  refuseInitChanges(state);
  for (const [sym, fd] of functions) {
    if (fd.status === 'new' && isInit(sym.section)) {
      // registered to run at boot (an initcall, a command-line handler): what it sets up would be missing
      const registry = state.graph.usersOf(sym).find((u) => BOOT_REGISTRY.test(u.section.name))?.section.name;
      if (registry) {
        const why = `${fd.name} is new init code registered in ${registry}: the kernel ran those at boot and never runs a live patch's; set up what it does from a post-patch callback (REBOOTLESS_POST_PATCH, <linux/rebootless.h>)`;
        state.refusals.push(refusal('INIT_CHANGED', fd.name, why, { section: fd.section }));
      } else state.warnings.push(`new init function ${fd.name} will never run in a live patch`);
    }
    if (options.module && fd.include && fd.status !== 'removed') {
      for (const k of localKeysOf(sym, patched, pi)) {
        // a key the patch brings itself (new, or a per-call-site static) lives in the patch module: fine
        if (k.symbol && (isSpecialStatic(k.symbol) || !twins.backward.has(k.symbol))) continue;
        const code = k.section === '.static_call_sites' ? 'STATIC_CALL_IN_MODULE' : 'STATIC_KEY_IN_MODULE';
        state.refusals.push(refusal(code, fd.name, `${fd.name} uses ${k.key}, which this module defines (${k.section})`, { section: fd.section }));
      }
    }
  }
  refuseSectionChanges(state);
}

/** Section-level changes: exports, COMDAT groups, and allocated sections nobody owns. */
function refuseSectionChanges(state: DiffState): void {
  const { orig, patched, oi, pi, refusals } = state;
  const names = (f: typeof orig): Set<string> => new Set(f.sections.map((s) => s.name));
  const on = names(orig);
  const pn = names(patched);
  for (const n of pn) {
    if (isExportSection(n) && n.includes('+') && !on.has(n)) refusals.push(refusal('EXPORT_CHANGED', n.split('+')[1] ?? n, `new export ${n.split('+')[1] ?? n}`, { section: n }));
  }
  for (const n of on) {
    if (isExportSection(n) && n.includes('+') && !pn.has(n)) refusals.push(refusal('EXPORT_CHANGED', n.split('+')[1] ?? n, `export ${n.split('+')[1] ?? n} removed or changed`, { section: n }));
  }
  // COMDAT groups: same signature must keep the same member contents
  for (const g of patched.sections.filter((s) => s.type === SHT_GROUP && s.group)) {
    const sig = g.group?.signature.name ?? '';
    const og = orig.sections.find((s) => s.type === SHT_GROUP && s.group?.signature.name === sig);
    const pm = (g.group?.members ?? []).map((m) => m.name).sort();
    const om = (og?.group?.members ?? []).map((m) => m.name).sort();
    const same =
      og &&
      pm.join() === om.join() &&
      (g.group?.members ?? []).every((m) => {
        const twin = og.group?.members.find((x) => x.name === m.name);
        return twin && sameContents(twin, m);
      });
    if (!same) refusals.push(refusal('COMDAT_CHANGED', sig, `COMDAT group ${sig} ${og ? 'changed' : 'is new'}`, { section: g.name }));
  }
  // allocated sections with no function or object that changed, and that no table above explains
  for (const ps of patched.sections) {
    if (ignorable(ps) || ps.type === SHT_GROUP || ps.name === '' || isExportSection(ps.name)) continue;
    if (pi.findSymbolsBySection(ps).some((s) => s.type === STT_FUNC || s.type === STT_OBJECT)) continue;
    if ((ps.flags & (SHF_STRINGS | SHF_MERGE)) !== 0n) continue; // strings and merged constants: compared through the code that uses them
    const os = oi.findSectionByName(ps.name);
    if (!os) continue; // new anonymous data is carried with the code that uses it
    if (!sameContents(os, ps)) {
      if (/^\.(text|rodata|data|bss)(\.|$)/.test(ps.name)) continue; // anonymous code/data: judged through its users (propagate)
      refusals.push(refusal('UNKNOWN_SECTION_CHANGED', ps.name, `section ${ps.name} changed and rebootless does not know what it holds`, { section: ps.name }));
    }
  }
}
