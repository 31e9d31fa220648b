import { findRelaTarget } from '../../arch/x86_64/rela-target.js';
import { STT_FUNC } from '../../elf/constants.js';
import type { ElfSymbol } from '../../elf/model.js';
import type { Reference } from '../references.js';
import { refusal } from '../refusals.js';
import { isInit } from '../sections.js';
import { specialSection } from '../special.js';
import type { FunctionDiff } from '../types.js';
import type { DiffState } from './state.js';

// Pass 4, carry: decide how the module includes each changed or new
// function. One that ftrace cannot redirect (no fentry: notrace, inline,
// a SYSCALL body) is carried along as new code and its callers in this object
// are patched instead, up to callers that can be redirected. That only works
// when every way into the old code is a direct call from this object: a
// global, or a function whose address is taken (an ops table, a callback), is
// refused.

/** A direct call or jump (`call`/`jmp`/`jcc rel32`) whose field the relocation patches. */
function isDirectBranch(ref: Reference): boolean {
  const at = Number(ref.rela.offset);
  const data = ref.section.data;
  const op = data[at - 1];
  return op === 0xe8 || op === 0xe9 || (data[at - 2] === 0x0f && op !== undefined && op >= 0x80 && op <= 0x8f);
}

/** Places that take the address of `fn` (not calls, not its own side-table entries, not jumps inside it). */
function addressTakers(state: DiffState, fn: ElfSymbol): string[] {
  const out = new Set<string>();
  for (const u of state.graph.usersOf(fn)) {
    if (u.from === fn || specialSection(u.section.name)) continue;
    if (findRelaTarget(state.pi, u.rela, u.section).addend !== 0n) continue; // a label inside it (a jump table)
    if (u.from?.type === STT_FUNC && isDirectBranch(u)) continue;
    out.add(u.from?.name ?? u.section.name);
  }
  return [...out];
}

export function carryUntraceable(state: DiffState): void {
  const { functions, graph } = state;
  const callersOf = (target: ElfSymbol): ElfSymbol[] =>
    [...new Set(graph.usersOf(target).map((u) => u.from))].filter((f): f is ElfSymbol => !!f && f !== target && functions.has(f) && functions.get(f)?.status !== 'removed');
  const work = [...functions].filter(([s, fd]) => (fd.status === 'changed' || fd.status === 'new') && !fd.hasFentry && !isInit(s.section)).map(([s]) => s);
  const seen = new Set<ElfSymbol>();
  while (work.length) {
    const sym = work.pop() as ElfSymbol;
    if (seen.has(sym)) continue;
    seen.add(sym);
    const fd = functions.get(sym) as FunctionDiff;
    fd.include = 'carry';
    if (fd.status === 'new') continue; // new code is reached through its (changed) callers
    if (!fd.local) {
      state.refusals.push(refusal('NO_FENTRY', fd.name, `${fd.name} changed but has no ftrace entry, and its callers live in other objects`, { section: fd.section }));
      continue;
    }
    const takers = addressTakers(state, sym);
    if (takers.length) {
      state.refusals.push(
        refusal('NO_FENTRY', fd.name, `${fd.name} changed and has no ftrace entry, and its address is taken (${takers.join(', ')}): the kernel can still reach the old code through that pointer`, {
          section: fd.section,
        }),
      );
      continue;
    }
    // init and exit callers have run (or run only at unload): nothing to patch there, and not a change of theirs
    const all = callersOf(sym);
    for (const c of all.filter((f) => isInit(f.section))) state.warnings.push(`${c.name} (${c.section?.name ?? ''}) calls ${fd.name}, which the patch carries: it has run, and is left as it is`);
    const callers = all.filter((f) => !isInit(f.section));
    if (callers.length === 0) {
      state.refusals.push(refusal('NO_FENTRY', fd.name, `${fd.name} changed, has no ftrace entry and no caller in this object to patch instead`, { section: fd.section }));
    }
    for (const c of callers) {
      const cfd = functions.get(c) as FunctionDiff;
      if (cfd.status === 'same') {
        cfd.status = 'changed';
        cfd.because = `calls ${fd.name}, which changed and cannot be redirected itself`;
      }
      if (!cfd.hasFentry) work.push(c);
    }
  }
  for (const [sym, fd] of functions) {
    // init and exit code is refused, never included
    if ((fd.status === 'changed' || fd.status === 'new') && fd.include === undefined && !isInit(sym.section)) fd.include = fd.status === 'changed' ? 'patch' : 'carry';
  }
}
