import { findRelaTarget } from '../../arch/x86_64/rela-target.js';
import { STT_FUNC } from '../../elf/constants.js';
import { refusal } from '../refusals.js';
import type { CallbackKind } from '../types.js';
import type { DiffState } from './state.js';

// Pass 5, callbacks: the functions the patched source registers with
// <linux/rebootless.h> (include/linux/rebootless.h). Each REBOOTLESS_*
// macro leaves a pointer to its function in `.rebootless.callback.KIND`;
// the function is carried into the patch (new code, or an existing function
// the core now calls), and the generator puts it on the target's klp_object.
// The pointers are not data of the kernel: they leave the data list and never
// reach the module. A section the original has too registers nothing new (an
// object compared with itself).

export const CALLBACK_SECTION_PREFIX = '.rebootless.callback.';

const KINDS: readonly CallbackKind[] = ['pre_patch', 'post_patch', 'pre_unpatch', 'post_unpatch'];

export function findCallbacks(state: DiffState): void {
  const { patched, pi, oi, functions, data } = state;
  for (const [sym] of data) if (sym.section?.name.startsWith(CALLBACK_SECTION_PREFIX)) data.delete(sym);
  for (const sec of patched.sections) {
    if (!sec.name.startsWith(CALLBACK_SECTION_PREFIX) || oi.findSectionByName(sec.name)) continue;
    const kind = sec.name.slice(CALLBACK_SECTION_PREFIX.length) as CallbackKind;
    if (!KINDS.includes(kind)) continue;
    const targets = pi.findRelasInRange(sec, 0n, BigInt(sec.size)).map((r) => findRelaTarget(pi, r, sec).symbol);
    for (const fn of targets) {
      const fd = fn.type === STT_FUNC ? functions.get(fn) : undefined;
      if (!fd) continue;
      fd.include ??= 'carry';
      state.callbacks.push({ kind, function: fd.name });
    }
    const names = state.callbacks.filter((c) => c.kind === kind).map((c) => c.function);
    if (names.length > 1) {
      state.refusals.push(refusal('CALLBACK_TWICE', names.join(', '), `${names.length} functions are registered as the ${kind} callback of one object: ${names.join(', ')}`, { section: sec.name }));
    }
  }
  state.callbacks.sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind));
}
