import spawn, { SubprocessError } from 'nano-spawn';
import { RebootlessError } from '../errors/index.js';
import { shellCommand } from './shell.js';
import { packageForTool } from './tools.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Called with each line of stdout as it arrives. */
  onLine?: (line: string) => void;
  /** Aborting kills the child. */
  signal?: AbortSignal;
  /** Input written to the child's stdin. */
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

const TAIL_LINES = 20;

export function tail(text: string, lines = TAIL_LINES): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Force-killed this long after a cancel's SIGTERM if it has not exited. */
const KILL_AFTER_MS = 2000;

/**
 * Runs a program to completion. A missing program becomes TOOL_MISSING, a
 * non-zero exit COMMAND_FAILED with the tail of stderr, a cancel (the
 * signal aborted: SIGTERM, then SIGKILL) INTERRUPTED. With nano-spawn:
 * execa, which did this before, took 160 ms of every command's start to load.
 */
export async function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const child = spawn(file, [...args], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
    stdin: options.input === undefined ? 'ignore' : { string: options.input },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const forceKill = (): void => {
    void child.nodeChildProcess.then((p) => setTimeout(() => p.exitCode === null && p.signalCode === null && p.kill('SIGKILL'), KILL_AFTER_MS).unref(), () => undefined);
  };
  options.signal?.addEventListener('abort', forceKill, { once: true });
  // lines as they come (the child's stdout is then read through them, not buffered by nano-spawn)
  const lines: string[] = [];
  const reading = options.onLine
    ? (async () => {
        for await (const line of child.stdout) {
          lines.push(line);
          options.onLine?.(line);
        }
      })().catch(() => undefined)
    : undefined;
  try {
    const r = await child;
    await reading;
    return { stdout: reading ? lines.join('\n') : r.stdout, stderr: r.stderr };
  } catch (e) {
    await reading;
    throw failure(e, file, args, options.signal);
  } finally {
    // a build runs hundreds of commands under one signal
    options.signal?.removeEventListener('abort', forceKill);
  }
}

function failure(e: unknown, file: string, args: readonly string[], signal: AbortSignal | undefined): unknown {
  if (!(e instanceof SubprocessError)) return e;
  const cause = e.cause as NodeJS.ErrnoException | undefined;
  if (cause?.code === 'ENOENT' && e.exitCode === undefined && e.signalName === undefined) return new RebootlessError('TOOL_MISSING', { tool: file, packageName: packageForTool(file) });
  if (signal?.aborted) return new RebootlessError('INTERRUPTED', { signal: 'SIGINT' });
  return new RebootlessError(
    'COMMAND_FAILED',
    { command: shellCommand([file, ...args]), exitCode: e.exitCode ?? null, signal: e.signalName ?? null, stderrTail: tail(e.stderr || e.stdout) },
    { cause: e },
  );
}

/** A program's stdout and stderr interleaved as it wrote them, and its exit code (127 when it could not start). */
export async function runCombined(file: string, args: readonly string[]): Promise<{ exitCode: number; output: string }> {
  try {
    return { exitCode: 0, output: (await spawn(file, [...args], { stdin: 'ignore' })).output.trim() };
  } catch (e) {
    if (!(e instanceof SubprocessError)) throw e;
    if (e.exitCode === undefined) {
      const cause = e.cause as NodeJS.ErrnoException | undefined;
      return { exitCode: 127, output: cause?.code === 'ENOENT' ? `${file}: not found` : `${file} could not be started: ${cause?.message ?? e.message}` };
    }
    return { exitCode: e.exitCode, output: e.output.trim() };
  }
}

/** True when a program can be found on PATH. */
export async function commandExists(file: string): Promise<boolean> {
  return (await runCombined('sh', ['-c', 'command -v "$1"', 'sh', file])).exitCode === 0;
}
