import { findRelaTarget } from '../../arch/x86_64/rela-target.js';
import { STT_FUNC } from '../../elf/constants.js';
import { refusal } from '../refusals.js';
import type { CallbackKind } from '../types.js';
import type { DiffState } from './state.js';

// Pass 5, callbacks and states: the functions the patched source registers with
// <linux/rebootless.h> (include/linux/rebootless.h). Each REBOOTLESS_*
// macro leaves a pointer to its function in `.rebootless.callback.KIND`;
// the function is carried into the patch (new code, or an existing function
// the core now calls), and the generator puts it on the target's klp_object.
// REBOOTLESS_STATE's entries (`.rebootless.state`) become the patch's
// klp_states. Neither is data of the kernel: they leave the data list and never
// reach the module. A section the original has too registers nothing new (an
// object compared with itself).

export const CALLBACK_SECTION_PREFIX = '.rebootless.callback.';
/** REBOOTLESS_STATE's entries: u64 id, u32 version, u32 zero. */
export const STATE_SECTION = '.rebootless.state';
const STATE_ENTRY = 16;

const KINDS: readonly CallbackKind[] = ['pre_patch', 'post_patch', 'pre_unpatch', 'post_unpatch'];

export function findCallbacks(state: DiffState): void {
  const { patched, pi, oi, functions, data } = state;
  const ours = (name: string | undefined): boolean => name !== undefined && (name.startsWith(CALLBACK_SECTION_PREFIX) || name === STATE_SECTION);
  for (const [sym] of data) if (ours(sym.section?.name)) data.delete(sym);
  const states = patched.sections.find((s) => s.name === STATE_SECTION);
  if (states && !oi.findSectionByName(STATE_SECTION)) {
    const v = new DataView(states.data.buffer, states.data.byteOffset, states.data.byteLength);
    for (let at = 0; at + STATE_ENTRY <= states.data.length; at += STATE_ENTRY) state.states.push({ id: v.getBigUint64(at, true).toString(), version: v.getUint32(at + 8, true) });
    state.states.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }
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
