import { findRelaTarget } from '../../arch/x86_64/rela-target.js';
import type { DiffResult } from '../../diff/types.js';
import { RebootlessError } from '../../errors/index.js';
import { SHF_EXECINSTR, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../elf/constants.js';
import { findSymtab } from '../../elf/edit.js';
import { buildIndex, type ElfIndex } from '../../elf/lookup.js';
import type { ElfFile, ElfSymbol } from '../../elf/model.js';
import { compareWithImage } from './compare-image.js';
import { compareWithObject } from './compare-object.js';
import type { LinkedImage } from './image.js';
import { noRelocations, type Comparison, type RelocationCounts } from './types.js';

// run-pre (Ksplice's name): before a patch is built on the assumption that
// the source is what the kernel runs, prove it. Every function the patch
// replaces, carries from the original, or reaches by a local name is
// compiled from the release's source and compared with the release's binary
// (vmlinux from the -dbg package, or the module file). A difference anywhere
// but in relocated fields refuses the build. What the compiled code's
// relocations reach in the binary binds each local name to one kernel
// symbol: repeated names are resolved by code, not by guessing.

export { linkedImage, type LinkedImage } from './image.js';
export type { RelocationCounts } from './types.js';

export type RunPreTarget =
  | { kind: 'vmlinux'; image: LinkedImage; preferred?: (s: ElfSymbol) => boolean }
  | { kind: 'module'; name: string; file: ElfFile };

export interface FunctionCheck {
  /** The function's name in the original object. */
  name: string;
  role: 'replaced' | 'carried' | 'referenced';
  /** matched: the same code as the kernel's; absent: the kernel has no function of that name (inlined there). */
  result: 'matched' | 'absent';
  /** Its position among the target's same-named symbols (0 when the name is unique). */
  sympos: number;
  candidates: number;
  relocations: RelocationCounts;
}

export interface RunPreResult {
  checks: FunctionCheck[];
  /** Each local name the compared code reaches, bound to the target's symbol. */
  bound: Map<string, ElfSymbol>;
}

export interface RunPreInput {
  /** The object's path, for messages. */
  object: string;
  orig: ElfFile;
  patched: ElfFile;
  diff: DiffResult;
  target: RunPreTarget;
}

const isFunction = (s: ElfSymbol): boolean => s.type === STT_FUNC && s.section !== null;

/** Orig names of the functions the patch includes, by role; and the locals their new code reaches. */
function selection(input: RunPreInput): { roles: Map<string, FunctionCheck['role']>; data: Set<string> } {
  const roles = new Map<string, FunctionCheck['role']>();
  const included = new Set<string>();
  for (const f of input.diff.functions) {
    if (!f.include) continue;
    included.add(f.name);
    if (f.status !== 'new') roles.set(f.twin ?? f.name, f.include === 'patch' ? 'replaced' : 'carried');
  }
  const origName = new Map([...input.diff.functions, ...input.diff.data].map((e) => [e.name, e.twin ?? e.name]));
  const data = new Set<string>();
  const idx = buildIndex(input.patched);
  for (const f of findSymtab(input.patched)?.symbols ?? []) {
    if (!isFunction(f) || !included.has(f.name)) continue;
    const sec = f.section as NonNullable<ElfSymbol['section']>;
    for (const r of idx.findRelasInRange(sec, f.value, f.value + BigInt(f.size))) {
      const t = findRelaTarget(idx, r, sec);
      if (t.symbol.bind !== STB_LOCAL || included.has(t.symbol.name)) continue;
      const name = origName.get(t.symbol.name) ?? t.symbol.name;
      if (t.symbol.type === STT_FUNC && !roles.has(name)) roles.set(name, 'referenced');
      else if (t.symbol.type === STT_OBJECT) data.add(name);
    }
  }
  return { roles, data };
}

class Checker {
  readonly checks: FunctionCheck[] = [];
  readonly bound = new Map<string, ElfSymbol>();
  readonly idx: ElfIndex;
  private readonly targetIdx: ElfIndex | undefined;

  constructor(private readonly input: RunPreInput) {
    this.idx = buildIndex(input.orig);
    this.targetIdx = input.target.kind === 'module' ? buildIndex(input.target.file) : undefined;
  }

  candidates(name: string, kind: 'function' | 'data'): readonly ElfSymbol[] {
    const t = this.input.target;
    const all = t.kind === 'vmlinux' ? t.image.symbolsNamed(name) : (this.targetIdx as ElfIndex).findSymbolsByName(name);
    return all.filter((s) => s.section !== null && (kind === 'function' ? s.type === STT_FUNC : s.type === STT_OBJECT));
  }

  private compare(fn: ElfSymbol, candidate: ElfSymbol): Promise<Comparison> | Comparison {
    const t = this.input.target;
    const c = { idx: this.idx, fn };
    return t.kind === 'vmlinux' ? compareWithImage(c, candidate, t.image) : compareWithObject(c, candidate, this.targetIdx as ElfIndex);
  }

  async check(name: string, role: FunctionCheck['role']): Promise<void> {
    if (this.checks.some((c) => c.name === name)) return;
    const fn = this.idx.findSymbolsByName(name).find(isFunction);
    if (!fn) return;
    const candidates = this.candidates(name, 'function');
    const record = (result: FunctionCheck['result'], sympos: number, relocations: RelocationCounts): void => {
      this.checks.push({ name, role, result, sympos, candidates: candidates.length, relocations });
    };
    if (candidates.length === 0) return record('absent', 0, noRelocations());
    const results = [];
    for (const cand of candidates) results.push({ cand, r: await this.compare(fn, cand) });
    let matched = results.filter((x) => x.r.ok);
    const t = this.input.target;
    if (matched.length > 1 && t.kind === 'vmlinux' && t.preferred) {
      const pick = matched.filter((x) => t.preferred?.(x.cand));
      if (pick.length === 1) matched = pick;
    }
    const where = (s: ElfSymbol): string => (t.kind === 'vmlinux' ? `0x${s.value.toString(16)}` : `${t.name}+0x${s.value.toString(16)} (symbol ${s.index})`);
    if (matched.length > 1) {
      throw new RebootlessError('RUN_PRE_AMBIGUOUS', { object: this.input.object, function: name, target: this.targetName(), candidates: matched.map((x) => where(x.cand)) });
    }
    const hit = matched[0];
    if (!hit || !hit.r.ok) {
      // the candidate of this object's FILE block, else the one that agrees longest
      const failed = results.map((x) => ({ cand: x.cand, m: (x.r as Extract<Comparison, { ok: false }>).mismatch }));
      const shown = failed.find((x) => t.kind === 'vmlinux' && t.preferred?.(x.cand)) ?? failed.reduce((a, b) => (b.m.offset > a.m.offset ? b : a));
      const m = shown.m;
      throw new RebootlessError('RUN_PRE_MISMATCH', {
        object: this.input.object,
        function: name,
        target: this.targetName(),
        offset: m.offset,
        compiled: m.compiled,
        running: m.running,
        why: m.why,
        candidates: results.length > 1 ? results.map((x) => where(x.cand)) : [],
      });
    }
    for (const b of hit.r.bound) this.bind(b.name, b.target, name);
    this.bind(name, hit.cand, name);
    record('matched', candidates.length > 1 ? candidates.indexOf(hit.cand) + 1 : 0, hit.r.relocations);
  }

  private targetName(): string {
    return this.input.target.kind === 'vmlinux' ? 'vmlinux' : this.input.target.name;
  }

  private bind(name: string, target: ElfSymbol, via: string): void {
    const had = this.bound.get(name);
    if (had && had !== target) {
      throw new RebootlessError('RUN_PRE_AMBIGUOUS', {
        object: this.input.object,
        function: via,
        target: this.targetName(),
        candidates: [`${name} reached at 0x${had.value.toString(16)} and at 0x${target.value.toString(16)}`],
      });
    }
    this.bound.set(name, target);
  }

  /** Compiled functions that reach the local data `name` (to bind it when nothing compared so far does). */
  functionsReaching(name: string, limit: number): string[] {
    const out: string[] = [];
    for (const sec of this.input.orig.sections) {
      if ((sec.flags & SHF_EXECINSTR) === 0n) continue;
      for (const r of this.idx.findRelasBySection(sec)) {
        const t = findRelaTarget(this.idx, r, sec);
        if (t.symbol.name !== name || t.symbol.type !== STT_OBJECT) continue;
        const fn = this.idx.findSymbolContaining(sec, r.offset);
        if (fn && isFunction(fn) && !out.includes(fn.name)) out.push(fn.name);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }
}

export async function runPre(input: RunPreInput): Promise<RunPreResult> {
  const { roles, data } = selection(input);
  const c = new Checker(input);
  for (const [name, role] of roles) await c.check(name, role);
  // repeated local data the compared code does not reach: bind it through other functions that do
  for (const name of data) {
    if (c.bound.has(name) || c.candidates(name, 'data').length < 2) continue;
    for (const fn of c.functionsReaching(name, 4)) {
      await c.check(fn, 'referenced');
      if (c.bound.has(name)) break;
    }
  }
  return { checks: c.checks, bound: c.bound };
}
