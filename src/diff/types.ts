// What the object differ answers. Pure data: the CLI renders it, the module
// generator (klp/) consumes it.

export type Status = 'new' | 'changed' | 'same' | 'removed';

export type Verdict = 'patchable' | 'unpatchable' | 'no-change';

export type RefusalCode =
  | 'DATA_CHANGED'
  | 'INIT_CHANGED'
  | 'EXPORT_CHANGED'
  | 'NO_FENTRY'
  | 'UNKNOWN_SECTION_CHANGED'
  | 'STATIC_KEY_IN_MODULE'
  | 'STATIC_CALL_IN_MODULE'
  | 'COMDAT_CHANGED'
  | 'CALLBACK_TWICE';

/** When the livepatch core calls a callback of the patch (a klp_object's callbacks). */
export type CallbackKind = 'pre_patch' | 'post_patch' | 'pre_unpatch' | 'post_unpatch';

/** A system state the patch declares (klp_state) with <linux/rebootless.h>: its id (a decimal string: 64 bits) and version. */
export interface PatchState {
  id: string;
  version: number;
}

/** A callback the patched source registers with <linux/rebootless.h>: the function and when it runs. */
export interface Callback {
  kind: CallbackKind;
  function: string;
}

export interface Refusal {
  code: RefusalCode;
  /** The symbol (or section) refused. */
  symbol: string;
  section?: string;
  offset?: number;
  reason: string;
  hint: string;
}

export interface InstructionDiff {
  /** Offset of the first differing instruction in the patched function (orig offset when it was removed). */
  offset: number;
  orig?: string;
  patched?: string;
}

export interface CallSite {
  callee: string;
  /** Offset of the call in the function. */
  offset: number;
}

export interface FunctionDiff {
  name: string;
  /** The name in the other object when it differs (a renumbered `.constprop.N`). */
  twin?: string;
  /** Other names of the same code (the compiler folded identical functions, e.g. `__x64_sys_x` = `__do_sys_x`). */
  aliases?: string[];
  status: Status;
  /** Section of the function in the patched object (orig for removed ones). */
  section: string;
  /** Why it counts as changed, when it does not differ itself (inlined child, `.cold` part). */
  because?: string;
  /** How the patch module includes it: redirected with a klp_func, or only carried along as new code. */
  include?: 'patch' | 'carry';
  hasFentry: boolean;
  local: boolean;
  firstDifference?: InstructionDiff;
  newCallees?: CallSite[];
  removedCallees?: CallSite[];
}

export interface DataDiff {
  name: string;
  twin?: string;
  status: Status;
  section: string;
  /** A compiler-managed static (`__key`, `__warned`, `CSWTCH`, `.data.once` ...): never correlated, carried along. */
  special?: boolean;
}

export interface SpecialEntry {
  /** Offset of the entry in its section. */
  offset: number;
  size: number;
}

export interface SpecialSectionEntries {
  section: string;
  entrySize: number;
  entries: SpecialEntry[];
}

export interface DiffResult {
  /** Label of the patched object (its path). */
  file: string;
  verdict: Verdict;
  functions: FunctionDiff[];
  data: DataDiff[];
  refusals: Refusal[];
  /** For each function the patch module includes: its entries in each special section of the patched object. */
  specialEntries: Record<string, SpecialSectionEntries[]>;
  /** Sections that changed but are known to need nothing (debug info, notes ...). */
  ignoredSections: string[];
  /** The callbacks the patched object registers (REBOOTLESS_POST_PATCH and friends), by kind. */
  callbacks: Callback[];
  /** The states the patched object declares (REBOOTLESS_STATE). */
  states: PatchState[];
  warnings: string[];
}

export interface DiffOptions {
  /** The object is part of a module (static keys and calls keyed in it cannot be patched). */
  module?: boolean;
  /** The object is a new file's: its new functions are the change (reached from other objects' patched functions). */
  created?: boolean;
}
