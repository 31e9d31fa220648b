// Error codes of live-kernel management (src/runtime): apply, revert, status, install.

/** A task that kept a transition from finishing, as an error reports it. */
export interface BlockerSummary {
  pid: number;
  comm: string;
  /** The patched functions on its stack. */
  functions: string[];
}

export interface RuntimeErrorData {
  MODULE_FILE_MISSING: { path: string; reason: string };
  LIVE_CODE_MISMATCH: { module: string; object: string; function: string; offset: number; expected: string; running: string; why: string };
  LIVE_CODE_UNREADABLE: { path: string; reason: string };
  MODULE_SIGNER_UNTRUSTED: { file: string; signer: string };
  WRONG_RELEASE: { file: string; moduleRelease: string; running: string };
  LIVEPATCH_UNSUPPORTED: { release: string; path: string };
  MODULE_ALREADY_LOADED: { name: string; livepatch: boolean };
  MODULE_SIGNATURE_REQUIRED: { file: string; reasons: string[] };
  MODULE_LOAD_FAILED: { file: string; reason: string; output: string };
  MODULE_UNLOAD_FAILED: { name: string; output: string; seconds: number };
  TRANSITION_BUSY: { patch: string; seconds: number };
  APPLY_REVERSED_REPLACED: { name: string; replaced: string[] };
  LIVE_INTERRUPTED: { name: string; what: 'applying' | 'reverting'; state: string };
  APPLY_TIMED_OUT: { name: string; seconds: number; blockers: BlockerSummary[] };
  REVERT_TIMED_OUT: { name: string; seconds: number; blockers: BlockerSummary[] };
  REVERSAL_STALLED: { name: string; seconds: number; blockers: BlockerSummary[]; target: 'patched' | 'unpatched' };
  SYSFS_WRITE_FAILED: { path: string; value: string; reason: string };
  PATCH_NOT_LOADED: { name: string; loaded: string[] };
  FORCE_NOT_CONFIRMED: Record<string, never>;
  NOT_INSTALLED: { name: string; release: string; installed: string[] };
}
