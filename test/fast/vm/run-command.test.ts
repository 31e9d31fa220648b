import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { VmRunOptions, VmRunResult } from '../../../src/vm/run.js';
import { commandOfWords } from '../../../src/vm/run.js';
import { commandLine } from '../../../src/vm/session.js';

// `vm run -- WORDS…`: one word is a shell command line, several an argv run
// exactly. The guest runs commandLine(...) with sh as the host's sh would;
// the CLI's wiring is checked with the VM replaced.

const { runInVm } = vi.hoisted(() => ({ runInVm: vi.fn<(o: VmRunOptions) => Promise<VmRunResult>>() }));
vi.mock('../../../src/vm/run.js', async (importOriginal) => ({ ...(await importOriginal<object>()), runInVm }));
vi.mock('../../../src/kernel/workspace.js', () => ({
  loadWorkspace: (_root: string, release: string) => Promise.resolve({ release }),
  listWorkspaces: () => Promise.resolve([{ release: 'r1', state: 'ready' }]),
}));
const { registerVm } = await import('../../../src/cli/commands/vm.js');

const sh = (words: string[]) => spawnSync('sh', ['-c', commandLine(commandOfWords(words))], { encoding: 'utf8' });

describe('vm run -- WORDS…', () => {
  it('runs several words as exactly that argv', () => {
    expect(sh(['sh', '-c', 'exit 7']).status).toBe(7);
    expect(sh(['echo', "it's"]).stdout).toBe("it's\n");
    expect(sh(['printf', '%s|', 'a b', '$HOME', '', 'x;y', '"q"']).stdout).toBe('a b|$HOME||x;y|"q"|');
  });

  it('runs one word as a shell command line', () => {
    expect(commandOfWords(['echo a | tr a b; exit 3'])).toBe('echo a | tr a b; exit 3');
    const r = sh(['echo a | tr a b; exit 3']);
    expect([r.stdout, r.status]).toEqual(['b\n', 3]);
  });
});

describe('vm run (CLI, the VM replaced)', () => {
  const result = (exitCode: number, failing: VmRunResult['failing'] = []): VmRunResult => ({
    release: 'r1',
    exitCode,
    output: 'out\n',
    bootMs: 1,
    commandMs: 2,
    trouble: failing,
    failing,
    excerpt: failing.map((t) => t.text).join('\n'),
    pid: 1,
  });

  async function vmRun(args: string[]): Promise<{ command: VmRunOptions['command'] | undefined; exit: number | undefined; stdout: string }> {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (c: Buffer) => (text += c.toString()));
    let exit: number | undefined;
    const program = new Command().exitOverride();
    registerVm(program, { io: { stdout, stderr: new PassThrough() }, signal: new AbortController().signal, progress: () => { throw new Error('unused'); }, color: false }, (c) => (exit = c));
    await program.parseAsync(['vm', 'run', ...args], { from: 'user' });
    return { command: runInVm.mock.calls.at(-1)?.[0].command, exit, stdout: text };
  }

  beforeEach(() => runInVm.mockReset());

  it('hands the guest the words as an argv, and exits with the guest command\'s status', async () => {
    runInVm.mockResolvedValue(result(7));
    const r = await vmRun(['--', 'sh', '-c', 'exit 7']);
    expect(r.command).toEqual(['sh', '-c', 'exit 7']);
    expect(r.exit).toBe(7);
    expect((await vmRun(['--', "echo it's"])).command).toBe("echo it's");
  });

  it('--json reports the guest status and exits with it, or with the kernel trouble that failed the run', async () => {
    runInVm.mockResolvedValue(result(7));
    const r = await vmRun(['--json', '--', 'sh', '-c', 'exit 7']);
    expect(JSON.parse(r.stdout)).toMatchObject({ release: 'r1', exitCode: 7, output: 'out\n' });
    expect(r.exit).toBe(7);
    runInVm.mockResolvedValue(result(0, [{ kind: 'warning', line: 3, text: 'WARNING: at x' }]));
    const t = await vmRun(['--json', '--', 'true']);
    expect(JSON.parse(t.stdout)).toMatchObject({ exitCode: 0, error: { code: 'VM_KERNEL_TROUBLE' } });
    expect(t.exit).toBe(90);
  });
});
