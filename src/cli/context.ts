import { createLineProgress, createTtyProgress, silentProgress, type Progress } from '../util/progress.js';

// What every command gets: where output goes, progress, cancellation.

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface CliContext {
  io: CliIo;
  signal: AbortSignal;
  progress(json: boolean): Progress;
  color: boolean;
}

export function createContext(io: CliIo, signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): CliContext {
  const color = io.stdout.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return {
    io,
    signal,
    color,
    progress(json) {
      if (env.REBOOTLESS_QUIET) return silentProgress;
      // Progress always goes to stderr; stdout carries only the result.
      if (io.stderr.isTTY && !json) return createTtyProgress(io.stderr);
      return createLineProgress(io.stderr);
    },
  };
}

/**
 * While a live transition is being reversed, stopping half-way would leave the
 * kernel mid-transition with its module loaded: signals are only counted.
 */
const shield = { on: false, ignored: 0 };
export function shieldSignals(on: boolean): void {
  shield.on = on;
}

/** An AbortController that fires on SIGINT/SIGTERM; a second signal exits at once (the third, while shielded). */
export function signalController(): AbortController {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted && shield.on && shield.ignored++ < 1) {
      process.stderr.write('rebootless: finishing the reversal so the kernel is left as it was; signal again to leave it to the kernel\n');
      return;
    }
    if (ac.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    ac.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return ac;
}

/** How a command reports its exit code (only the CLI entry point exits). */
export type SetExit = (code: number) => void;
