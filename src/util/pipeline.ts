import { spawn, type ChildProcess } from 'node:child_process';
import { Transform } from 'node:stream';
import { RebootlessError } from '../errors/index.js';
import { tail } from './process.js';
import { shellCommand } from './shell.js';
import { packageForTool } from './tools.js';

// A shell-free pipeline `a | b | c` whose bytes between the first and second
// program are counted, for progress on extractions.

export interface PipelineStep {
  file: string;
  args: string[];
  cwd?: string;
  /** A writer upstream of a reader that stops early dies of SIGPIPE; that is fine. */
  sigpipeOk?: boolean;
}

export interface PipelineOptions {
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

interface StepOutcome {
  step: PipelineStep;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
}

function watch(child: ChildProcess, step: PipelineStep): Promise<StepOutcome> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-16384);
  });
  return new Promise((resolve) => {
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => resolve({ step, code, signal, stderr, ...(spawnError ? { spawnError } : {}) }));
  });
}

export async function runPipeline(steps: PipelineStep[], options: PipelineOptions = {}): Promise<void> {
  const children: ChildProcess[] = [];
  const outcomes: Promise<StepOutcome>[] = [];
  const kill = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', kill, { once: true });
  try {
    let upstream: NodeJS.ReadableStream | undefined;
    steps.forEach((step, i) => {
      const child = spawn(step.file, step.args, {
        cwd: step.cwd,
        stdio: [upstream ? 'pipe' : 'ignore', i === steps.length - 1 ? 'ignore' : 'pipe', 'pipe'],
      });
      children.push(child);
      outcomes.push(watch(child, step));
      if (upstream && child.stdin) {
        child.stdin.on('error', () => undefined); // EPIPE when the reader stops early
        if (i === 1 && options.onBytes) {
          let n = 0;
          const counter = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              n += chunk.length;
              options.onBytes?.(n);
              cb(null, chunk);
            },
          });
          upstream.pipe(counter).pipe(child.stdin);
        } else {
          upstream.pipe(child.stdin);
        }
      }
      upstream = child.stdout ?? undefined;
      // when a reader exits, let the writer see EPIPE instead of blocking
      child.on('close', () => children[i - 1]?.stdout?.destroy());
    });
    const results = await Promise.all(outcomes);
    if (options.signal?.aborted) throw new RebootlessError('INTERRUPTED', { signal: 'SIGINT' });
    const lastOk = results.at(-1)?.code === 0;
    for (const r of results) {
      if (r.spawnError?.code === 'ENOENT') {
        throw new RebootlessError('TOOL_MISSING', { tool: r.step.file, packageName: packageForTool(r.step.file) });
      }
      const ok = r.code === 0 || (lastOk && r.step.sigpipeOk === true && (r.signal === 'SIGPIPE' || r.code === 2 || r.code === 141));
      if (!ok) {
        throw new RebootlessError('COMMAND_FAILED', {
          command: steps.map((s) => shellCommand([s.file, ...s.args])).join(' | '),
          exitCode: r.code,
          signal: r.signal,
          stderrTail: tail(r.stderr),
        });
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', kill);
    kill();
  }
}
