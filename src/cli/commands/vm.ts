import type { Command } from 'commander';
import { RebootlessError } from '../../errors/index.js';
import { troubleError } from '../../vm/console-scan.js';
import { cacheRoot } from '../../kernel/cache.js';
import { listWorkspaces, loadWorkspace } from '../../kernel/workspace.js';
import type { KernelWorkspace } from '../../kernel/manifest.js';
import { commandOfWords, parseFileSpec, runInVm } from '../../vm/run.js';
import type { CliContext, SetExit } from '../context.js';
import { collect } from '../options.js';
import { printJson } from '../render.js';


function positiveNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v.replace(/s$/, ''));
    if (!Number.isFinite(n) || n <= 0) throw new RebootlessError('USAGE', { detail: `${flag} expects a positive number, got '${v}'` });
    return n;
  };
}

/** The release named with --kernel, else the only one fetched. */
export async function workspaceFor(release: string | undefined): Promise<KernelWorkspace> {
  const root = cacheRoot();
  if (release) return loadWorkspace(root, release);
  const ready = (await listWorkspaces(root)).filter((e) => e.state === 'ready').map((e) => e.release);
  if (ready.length !== 1) throw new RebootlessError('VM_NO_RELEASE', { fetched: ready });
  return loadWorkspace(root, ready[0] as string);
}

interface VmRunFlags {
  kernel?: string;
  file: string[];
  module: string[];
  withCli?: boolean;
  memory?: number;
  cpus?: number;
  timeout?: number;
  bootTimeout?: number;
  allowWarn?: boolean;
  console?: boolean;
  json?: boolean;
}

export function registerVm(program: Command, ctx: CliContext, setExit: SetExit): void {
  const vm = program.command('vm').description('boot a fetched kernel release under QEMU and run commands in it');
  vm.command('run')
    .description("boot the release in a throwaway VM, run COMMAND in it, exit with its exit status (90 when the console shows kernel trouble, 124 on a timeout; --json tells these from the guest's own)")
    .argument('<command...>', "after --: one argument is a shell command line ('dmesg | tail -3'); several are a program and its arguments, run exactly as given (sh -c 'exit 7' exits 7)")
    .option('--kernel <release>', 'kernel release (default: the only fetched one)')
    .option('--file <host[:guest]>', 'copy a host file into the guest (repeatable; guest default /root/NAME)', collect, [])
    .option('--module <name>', 'ship a module of the release and its dependencies, for modprobe (repeatable)', collect, [])
    .option('--with-cli', 'ship Node and rebootless itself, so `rebootless` runs in the guest')
    .option('--memory <mb>', 'guest memory in MiB (default 512, 1024 with --with-cli)', positiveNumber('--memory'))
    .option('--cpus <n>', 'guest CPUs (default 2)', positiveNumber('--cpus'))
    .option('--timeout <seconds>', 'kill the VM when the command runs longer (default 300)', positiveNumber('--timeout'))
    .option('--boot-timeout <seconds>', 'give up when the guest is not up by then (default 120)', positiveNumber('--boot-timeout'))
    .option('--allow-warn', 'do not fail the run for a kernel WARNING alone')
    .option('--console', 'copy the guest console to stderr')
    .option('--json', 'print the result as JSON (output included) instead of streaming it')
    .action(async (words: string[], f: VmRunFlags) => {
      const workspace = await workspaceFor(f.kernel);
      const json = f.json === true;
      const r = await runInVm({
        workspace,
        cacheRoot: cacheRoot(),
        command: commandOfWords(words),
        files: f.file.map(parseFileSpec),
        modules: f.module,
        ...(f.withCli ? { withCli: true } : {}),
        ...(f.memory ? { memoryMb: Math.round(f.memory) } : {}),
        ...(f.cpus ? { cpus: Math.round(f.cpus) } : {}),
        timeoutMs: (f.timeout ?? 300) * 1000,
        bootTimeoutMs: (f.bootTimeout ?? 120) * 1000,
        ...(f.allowWarn ? { allowWarn: true } : {}),
        ...(json ? {} : { onOutput: (c: string) => ctx.io.stdout.write(c) }),
        ...(f.console ? { onConsole: (c: string) => ctx.io.stderr.write(c) } : {}),
        signal: ctx.signal,
      });
      const trouble = r.failing.length ? troubleError(r.failing, r.excerpt) : undefined;
      if (json) {
        printJson(ctx.io.stdout, {
          release: r.release,
          exitCode: r.exitCode,
          output: r.output,
          bootMs: r.bootMs,
          commandMs: r.commandMs,
          trouble: r.trouble,
          ...(trouble ? { error: trouble.toJSON() } : {}),
        });
        setExit(trouble ? trouble.exitCode : r.exitCode);
        return;
      }
      if (trouble) throw trouble;
      setExit(r.exitCode);
    });
}
