import { describe, expect, it } from 'vitest';
import { commandExists, runCombined, runCommand } from '../../../src/util/process.js';
import { rejection } from '../../helpers/errors.js';

// The process runner every command goes through (make, the compilers, apt):
// what a caller gets for each way a program can end.

describe('runCommand', () => {
  it('returns stdout and stderr, with the input given on stdin', async () => {
    const r = await runCommand('sh', ['-c', 'cat; echo err >&2'], { input: 'line one\nline two\n' });
    expect(r.stdout).toContain('line one\nline two');
    expect(r.stderr).toContain('err');
  });

  it('passes the environment, an undefined value removing the variable', async () => {
    process.env.RB_PROCESS_TEST = 'inherited';
    try {
      const r = await runCommand('sh', ['-c', 'echo "${RB_PROCESS_TEST-unset} $RB_EXTRA"'], { env: { RB_PROCESS_TEST: undefined, RB_EXTRA: 'given' } });
      expect(r.stdout.trim()).toBe('unset given');
    } finally {
      delete process.env.RB_PROCESS_TEST;
    }
  });

  it('hands each stdout line to onLine as it comes', async () => {
    const seen: string[] = [];
    const r = await runCommand('sh', ['-c', 'printf "a\\nb\\nc\\n"'], { onLine: (l) => seen.push(l) });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(r.stdout).toBe('a\nb\nc');
  });

  it('leaves no listener on the signal once a program has ended (a build runs hundreds under one)', async () => {
    const ac = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 15; i++) await runCommand('true', [], { signal: ac.signal });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('names a missing program and its Debian package', async () => {
    const e = await rejection(runCommand('rebootless-no-such-tool', []));
    expect(e.code).toBe('TOOL_MISSING');
  });

  it('says how a program failed: command, exit code, the tail of stderr', async () => {
    const e = await rejection(runCommand('sh', ['-c', 'echo first >&2; echo "the reason" >&2; exit 3']));
    expect(e.code).toBe('COMMAND_FAILED');
    expect(e.data).toMatchObject({ exitCode: 3, signal: null });
    const d = e.data as { stderrTail: string; command: string };
    expect(d.stderrTail).toContain('the reason');
    expect(d.command).toContain('sh -c');
  });

  it('reports a program killed by a signal', async () => {
    const e = await rejection(runCommand('sh', ['-c', 'kill -9 $$']));
    expect(e.code).toBe('COMMAND_FAILED');
    expect(e.data).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('on a cancel stops the program, force-killing one that ignores SIGTERM', async () => {
    const ac = new AbortController();
    const run = runCommand('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done'], { signal: ac.signal, onLine: () => ac.abort() });
    const e = await rejection(run);
    // it settles only once the program has exited: the SIGKILL came (it ignores SIGTERM and would loop for ever)
    expect(e.code).toBe('INTERRUPTED');
  }, 30_000);
});

describe('runCombined', () => {
  it('interleaves stdout and stderr and keeps the exit code', async () => {
    const r = await runCombined('sh', ['-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; exit 4']);
    expect(r).toEqual({ exitCode: 4, output: 'one\ntwo\nthree' });
  });

  it('gives 127 and a message for a missing program', async () => {
    expect(await runCombined('rebootless-no-such-tool', [])).toEqual({ exitCode: 127, output: 'rebootless-no-such-tool: not found' });
  });

  it('finds programs on PATH', async () => {
    expect(await commandExists('sh')).toBe(true);
    expect(await commandExists('rebootless-no-such-tool')).toBe(false);
  });
});
