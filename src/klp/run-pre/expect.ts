import { decodeInstructions, findInstructionAt } from '../../arch/x86_64/instructions.js';
import { findRelaTarget } from '../../arch/x86_64/rela-target.js';
import { relocationWidth } from '../../arch/x86_64/relocations.js';
import { entrySize } from '../../diff/special.js';
import type { ElfIndex } from '../../elf/lookup.js';
import type { ElfFile, ElfSection, ElfSymbol } from '../../elf/model.js';

// What `apply` will compare the running kernel's text with: each replaced
// function's bytes as the release has them, the fields the kernel relocates
// when it loads (KASLR for vmlinux, the module loader for a module), and the
// places it rewrites at boot and at run time (ftrace's call, alternatives,
// paravirt, static branches and calls, retpolines and return thunks, lock
// prefixes, sealed ENDBRs). The sites come from the compiled original's side
// tables, which run-pre proved describe the release's code.

export interface LiveExpectation {
  /** 'vmlinux' or the module name. */
  object: string;
  name: string;
  sympos: number;
  /** vmlinux: the function's address in the release's file (the running one differs by the KASLR offset). */
  address?: string;
  /** The release's bytes, hex. */
  bytes: string;
  /** [offset, width]: relocated fields, moved by KASLR (vmlinux: by the kernel's displacement or its negation), or filled by the module loader (modules: any value). */
  relocated: [number, number][];
  /** [offset, length, why]: bytes the kernel rewrites. */
  rewritten: [number, number, string][];
}

export interface LiveExpectations {
  version: 1;
  functions: LiveExpectation[];
}

/** The section of a livepatch module holding its LiveExpectations as JSON (not loaded: no SHF_ALLOC). */
export const EXPECTATIONS_SECTION = '.rebootless.live_code';

const SITE_TABLES: Record<string, string> = {
  __mcount_loc: 'ftrace call',
  __patchable_function_entries: 'ftrace call',
  '.altinstructions': 'alternative',
  '.parainstructions': 'paravirt call',
  __jump_table: 'static branch',
  '.static_call_sites': 'static call',
  '.retpoline_sites': 'retpoline',
  '.return_sites': 'return thunk',
  '.call_sites': 'call depth accounting',
  '.smp_locks': 'lock prefix',
  '.ibt_endbr_seal': 'sealed ENDBR',
};

const ENDBR64 = [0xf3, 0x0f, 0x1e, 0xfa];

/** Where the kernel rewrites `fn` (a function of the compiled original), from its side tables. */
export function rewrittenSites(file: ElfFile, idx: ElfIndex, fn: ElfSymbol, code: Uint8Array): [number, number, string][] {
  const out: [number, number, string][] = [];
  const insns = decodeInstructions(code, { text: false });
  const insnLength = (at: number): number => findInstructionAt(insns, at)?.length ?? 1;
  const fnSec = fn.section as ElfSection;
  for (const sec of file.sections) {
    const why = SITE_TABLES[sec.name];
    if (!why || sec.size === 0) continue;
    const size = entrySize(file, idx, sec) ?? sec.size;
    const data = sec.type === 8 /* SHT_NOBITS */ ? new Uint8Array(0) : sec.data;
    for (const r of idx.findRelasBySection(sec)) {
      // only each entry's first field names the site (a jump entry's second names its target)
      if (Number(r.offset) % size !== 0) continue;
      const t = findRelaTarget(idx, r, sec);
      const at = t.section === fnSec ? (t.symbol.section === fnSec ? t.symbol.value + t.addend : t.offset) - fn.value : -1n;
      if (at < 0n || at >= BigInt(fn.size)) continue;
      const site = Number(at);
      const entry = Number(r.offset);
      let length = insnLength(site);
      if (sec.name === '.altinstructions') length = data[entry + size - 2] ?? length;
      else if (sec.name === '.parainstructions') length = data[entry + relocationWidth(r.type) + 1] ?? length;
      else if (sec.name === '.smp_locks') length = 1;
      out.push([site, Math.max(1, Math.min(length, fn.size - site)), why]);
    }
  }
  if (ENDBR64.every((b, i) => code[i] === b)) out.push([0, 4, 'sealed ENDBR']);
  return out.sort((a, b) => a[0] - b[0]);
}

/**
 * Every relocated field of a function: of a vmlinux function from the compiled original's
 * relocations (run-pre proved they are the release's), moved by KASLR at boot (an absolute
 * address by the kernel's displacement, a PC-relative reach into the zero-based per-CPU space
 * by its negation); of a module function from the module file's own, filled by the loader.
 */
export function relocatedFields(idx: ElfIndex, fn: ElfSymbol): [number, number][] {
  const sec = fn.section as ElfSection;
  return idx
    .findRelasInRange(sec, fn.value, fn.value + BigInt(fn.size))
    .filter((r) => relocationWidth(r.type) > 0)
    .map((r) => [Number(r.offset - fn.value), relocationWidth(r.type)]);
}

/**
 * Tables of a linked vmlinux that list places by a 32-bit offset from each entry (`.long site - .`),
 * with each entry's size. objtool writes them for the whole of vmlinux when the kernel delays it
 * to the final link (IBT kernels: 6.12), so the compiled original does not have them.
 */
export const LINKED_SITE_TABLES: Record<string, { stride: number; why: string }> = {
  '.return_sites': { stride: 4, why: 'return thunk' },
  '.retpoline_sites': { stride: 4, why: 'retpoline' },
  '.call_sites': { stride: 4, why: 'call depth accounting' },
  '.ibt_endbr_seal': { stride: 4, why: 'sealed ENDBR' },
  '.static_call_sites': { stride: 8, why: 'static call' },
};

/** The places a linked table (`bytes` of a section at `addr`) lists inside [start, start + code.length). */
export function linkedTableSites(name: string, addr: bigint, bytes: Uint8Array, start: bigint, code: Uint8Array): [number, number, string][] {
  const table = LINKED_SITE_TABLES[name];
  if (!table) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const end = start + BigInt(code.length);
  const out: [number, number, string][] = [];
  let insns: ReturnType<typeof decodeInstructions> | undefined;
  for (let at = 0; at + 4 <= bytes.length; at += table.stride) {
    const site = addr + BigInt(at) + BigInt(view.getInt32(at, true));
    if (site < start || site >= end) continue;
    const offset = Number(site - start);
    insns ??= decodeInstructions(code, { text: false });
    const length = findInstructionAt(insns, offset)?.length ?? 1;
    out.push([offset, Math.min(length, code.length - offset), table.why]);
  }
  return out;
}

export const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
