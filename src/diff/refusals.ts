import type { Refusal, RefusalCode } from './types.js';

// Every refusal says what, where, why and what to do instead.

const HINTS: Record<RefusalCode, string> = {
  DATA_CHANGED:
    'existing data cannot be changed in a running kernel; keep the data as it is and attach new state with shadow variables (klp_shadow_get_or_alloc), or set it from a callback (REBOOTLESS_POST_PATCH, and put it back with REBOOTLESS_PRE_UNPATCH): #include <linux/rebootless.h> in the patch, see examples/',
  INIT_CHANGED: 'init and exit code has already run (or will run only at unload); fix the runtime path instead, or ship the change in the next reboot',
  EXPORT_CHANGED:
    'a live patch cannot add, remove or change an exported symbol; keep the export as it is and call the new code from the patched functions (state the new code needs: shadow variables and callbacks, #include <linux/rebootless.h>, see examples/)',
  NO_FENTRY:
    'the function has no ftrace entry (notrace, inline or assembly), so it cannot be redirected; change a traceable function that calls it, or drop notrace',
  UNKNOWN_SECTION_CHANGED: 'rebootless does not know how to carry this section into a live patch; change the code without touching it, and report the section',
  STATIC_KEY_IN_MODULE: 'a static key of a module cannot be used from a live patch; test it with static_key_enabled() instead of a static branch',
  STATIC_CALL_IN_MODULE: 'a static call keyed in a module cannot be used from a live patch; call the function through a plain pointer instead',
  COMDAT_CHANGED: 'COMDAT group contents changed; the linker merges these across objects, so the change cannot be confined to this patch',
  CALLBACK_TWICE: 'the livepatch core calls one callback of each kind per target: register one function and call the others from it',
};

export function refusal(code: RefusalCode, symbol: string, reason: string, where: { section?: string; offset?: number } = {}): Refusal {
  return { code, symbol, reason, hint: HINTS[code], ...where };
}
