import { execa, type ResultPromise } from 'execa';
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

/**
 * Runs a program to completion. A missing program becomes TOOL_MISSING, a
 * non-zero exit COMMAND_FAILED with the tail of stderr.
 */
export async function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const child = startCommand(file, args, options);
  if (options.onLine) {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onLine?.(line);
    });
  }
  return awaitCommand(child, file, args);
}

/** Starts a program and returns execa's handle; pair with awaitCommand. */
export function startCommand(file: string, args: readonly string[], options: RunOptions = {}): ResultPromise {
  return execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    reject: false,
    stripFinalNewline: false,
    cancelSignal: options.signal,
    forceKillAfterDelay: 2000,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
}

export async function awaitCommand(child: ResultPromise, file: string, args: readonly string[]): Promise<RunResult> {
  const result = await child;
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  const cause = result.cause as NodeJS.ErrnoException | undefined;
  if (cause?.code === 'ENOENT' && result.exitCode === undefined) {
    throw new RebootlessError('TOOL_MISSING', { tool: file, packageName: packageForTool(file) });
  }
  if (result.isCanceled) {
    throw new RebootlessError('INTERRUPTED', { signal: 'SIGINT' });
  }
  if (result.failed) {
    throw new RebootlessError('COMMAND_FAILED', {
      command: shellCommand([file, ...args]),
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      stderrTail: tail(stderr || stdout),
    });
  }
  return { stdout, stderr };
}

/** True when a program can be found on PATH. */
export async function commandExists(file: string): Promise<boolean> {
  const r = await execa('sh', ['-c', 'command -v "$1"', 'sh', file], { reject: false });
  return r.exitCode === 0;
}
