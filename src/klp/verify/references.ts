import { relocationType } from '../../arch/x86_64/relocations.js';
import { decodeCodeReferences, instructionEndAt } from '../../arch/x86_64/references.js';
import { SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION } from '../../elf/constants.js';
import { parseLivepatchSymbolName, symbolAtSympos } from '../../elf/livepatch.js';
import type { ElfIndex } from '../../elf/lookup.js';
import type { ElfRela, ElfSection, ElfSymbol } from '../../elf/model.js';
import { isLivepatchSymbol, isUndefined } from '../../elf/predicates.js';
import type { ExportInfo, TargetObject, TargetSymbol } from './types.js';

// What one function refers to, as entities: in a module file from its
// relocations (normal and `.klp.rela.*`), in vmlinux from its decoded code.

export type Reference =
  /** A kernel symbol: through a `.klp.sym`, an export, or (originals) directly. */
  | { kind: 'kernel'; offset: number; symbol: string; entity: TargetSymbol }
  /** A `.klp.sym` or undefined name that resolves to nothing (reported by the symbol checks). */
  | { kind: 'unresolved'; offset: number; symbol: string }
  /** Code in the same file (a carried function, or the original's own callee in its module). */
  | { kind: 'local-function'; offset: number; symbol: string; function: ElfSymbol }
  /** Writable data in the same file; `names` are the symbol's name and the section's (minus `.data.`/`.bss.`). */
  | { kind: 'local-data'; offset: number; symbol: string; names: string[]; section: ElfSection; at: bigint; data: ElfSymbol | undefined };

export interface Resolver {
  targets: ReadonlyMap<string, TargetObject>;
  exports: ReadonlyMap<string, ExportInfo>;
  /** Entities for exports of modules that are not targets, one per name. */
  foreign: Map<string, TargetSymbol>;
}

/** An undefined name the loader links: vmlinux's global, or another module's export. */
export function resolveImport(r: Resolver, name: string): TargetSymbol | undefined {
  const exp = r.exports.get(name);
  const vm = r.targets.get('vmlinux')?.byName(name).find((s) => s.global);
  if (vm && (!exp || exp.module === 'vmlinux')) return vm;
  if (!exp) return undefined;
  const inTarget = r.targets.get(exp.module)?.byName(name).find((s) => s.global);
  if (inTarget) return inTarget;
  let f = r.foreign.get(name);
  if (!f) r.foreign.set(name, (f = { object: exp.module, name, value: 0n, size: 0, kind: 'other', writable: false, global: true }));
  return f;
}

/** The kernel entity a `.klp.sym` names, if it exists. */
export function resolveLivepatchSymbol(r: Resolver, full: string): TargetSymbol | undefined {
  const n = parseLivepatchSymbolName(full);
  const t = n && r.targets.get(n.object);
  return n && t ? symbolAtSympos(t.byName(n.name), n.sympos) : undefined;
}

/**
 * State a kernel macro makes for each place it is used, which a patch may
 * bring fresh for its new code without changing what the code does: a
 * ratelimit (`printk_ratelimited`: `_rs.N`), a once-flag (`WARN_ONCE`,
 * `pr_*_once`, `DO_ONCE`: `__already_done.N`, `__warned.N`, `__print_once.N`,
 * sections `.data.once`), a lockdep class key (`__key.N`). The new code's
 * message may be printed once more, or its rate count start again; nothing
 * else reads them. Any other data the original used must be the kernel's.
 */
export function isPerSiteState(name: string, section: string): boolean {
  if (/^\.data\.?\.once(\.|$)/.test(section)) return true;
  return /^(_rs|__already_done|__warned|__print_once|__key)\.\d+$/.test(name);
}

/** `.data.tainted_mask` → `tainted_mask`; '' for kernel-special (`.data..percpu`) or plain sections. */
export function dataSectionVariable(section: string): string {
  const m = /^\.(?:data|bss)\.(.*)$/.exec(section);
  return m && m[1] && !m[1].startsWith('.') ? m[1] : '';
}

const isWritableData = (s: ElfSection): boolean => (s.flags & SHF_ALLOC) !== 0n && (s.flags & SHF_WRITE) !== 0n && (s.flags & SHF_EXECINSTR) === 0n;

/**
 * Where a relocation lands inside its symbol's section. For a PC-relative
 * field the addend also holds the distance from the field to the end of the
 * instruction (-4 for `mov x(%rip),%rax`, -5 for `cmpq $0,x(%rip)`): the
 * instruction is decoded to take it back out.
 */
function landing(code: ElfSection, fn: ElfSymbol, r: ElfRela): bigint {
  const base = r.symbol.value + r.addend;
  const type = relocationType(r.type);
  if (!type?.pcRelative) return base;
  const field = Number(r.offset);
  const end = instructionEndAt(code.data, field, Number(fn.value));
  return base + BigInt((end ?? field + type.width) - field);
}

/** The references of `fn` (defined in a module file) from its relocations. */
export function moduleFunctionReferences(idx: ElfIndex, fn: ElfSymbol, r: Resolver): Reference[] {
  const code = fn.section;
  if (!code) return [];
  const out: Reference[] = [];
  for (const rela of idx.findRelasInRange(code, fn.value, fn.value + BigInt(fn.size))) {
    const offset = Number(rela.offset - fn.value);
    const sym = rela.symbol;
    if (isLivepatchSymbol(sym)) {
      const entity = resolveLivepatchSymbol(r, sym.name);
      out.push(entity ? { kind: 'kernel', offset, symbol: sym.name, entity } : { kind: 'unresolved', offset, symbol: sym.name });
      continue;
    }
    if (isUndefined(sym)) {
      if (!sym.name) continue;
      const entity = resolveImport(r, sym.name);
      out.push(entity ? { kind: 'kernel', offset, symbol: sym.name, entity } : { kind: 'unresolved', offset, symbol: sym.name });
      continue;
    }
    const sec = sym.section;
    if (!sec) continue;
    const named = sym.type === STT_FUNC || sym.type === STT_OBJECT || (sym.type === STT_NOTYPE && sym.size > 0);
    const at = named ? sym.value : landing(code, fn, rela);
    const inner = named ? sym : sym.type === STT_SECTION || sym.type === STT_NOTYPE ? idx.findSymbolContaining(sec, at) : undefined;
    if ((sec.flags & SHF_EXECINSTR) !== 0n) {
      if (inner && inner.type === STT_FUNC && inner !== fn) out.push({ kind: 'local-function', offset, symbol: inner.name, function: inner });
    } else if (isWritableData(sec)) {
      const names = [inner?.name, dataSectionVariable(sec.name)].filter((n): n is string => !!n);
      out.push({ kind: 'local-data', offset, symbol: inner?.name ?? `${sec.name}+0x${at.toString(16)}`, names, section: sec, at, data: inner });
    }
  }
  return out;
}

/** The kernel entities a vmlinux function's code refers to (itself left out). */
export function decodedReferences(target: TargetObject, fn: TargetSymbol, code: Uint8Array): Reference[] {
  const out: Reference[] = [];
  for (const ref of decodeCodeReferences(code, fn.value)) {
    const entity = target.containing(ref.target);
    if (!entity || entity === fn) continue;
    out.push({ kind: 'kernel', offset: ref.offset, symbol: entity.name, entity });
  }
  return out;
}
