import type { TransitionSnapshot } from './transition.js';

/** What apply, revert and load-installed report while they work. */
export type RuntimeEvent =
  | { kind: 'note'; text: string }
  | { kind: 'waiting-for-other'; patch: string }
  | { kind: 'loading'; file: string }
  | { kind: 'disabling'; name: string }
  | { kind: 'retry'; what: 'load' | 'unload' | 'disable'; reason: string }
  | { kind: 'transition'; snapshot: TransitionSnapshot }
  | { kind: 'reversing'; name: string; why: 'timeout' | 'interrupted' }
  | { kind: 'forcing'; name: string }
  | { kind: 'unloading'; name: string };

export interface RuntimeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onEvent?: (e: RuntimeEvent) => void;
  /** Poll interval while following a transition (default 250 ms). */
  intervalMs?: number;
}
