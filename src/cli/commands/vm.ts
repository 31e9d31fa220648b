import type { Command } from 'commander';
import type { VmRunFlags } from '../actions/vm.js';
import type { CliContext, SetExit } from '../context.js';
import { collect } from '../options.js';

export function registerVm(program: Command, ctx: CliContext, setExit: SetExit): void {
  const vm = program.command('vm').description('boot a fetched kernel release under QEMU and run commands in it');
  vm.command('run')
    .description("boot the release in a throwaway VM, run COMMAND in it, exit with its exit status (90 when the console shows kernel trouble, 124 on a timeout; --json tells these from the guest's own)")
    .argument('<command...>', "after --: one argument is a shell command line ('dmesg | tail -3'); several are a program and its arguments, run exactly as given (sh -c 'exit 7' exits 7)")
    .option('--kernel <release>', 'kernel release (default: the only fetched one)')
    .option('--file <host[:guest]>', 'copy a host file into the guest (repeatable; guest default /root/NAME)', collect, [])
    .option('--module <name>', 'ship a module of the release and its dependencies, for modprobe (repeatable)', collect, [])
    .option('--debian', "boot a real Debian guest of the release's suite (systemd, apt, SSH; made once per release with mmdebstrap, root only) instead of the busybox initramfs")
    .option('--with-cli', 'ship Node and rebootless itself, so `rebootless` runs in the guest')
    .option('--memory <mb>', 'guest memory in MiB (default 512, 1024 with --with-cli)')
    .option('--cpus <n>', 'guest CPUs (default 2)')
    .option('--timeout <seconds>', 'kill the VM when the command runs longer (default 300)')
    .option('--boot-timeout <seconds>', 'give up when the guest is not up by then (default 120, 300 with --debian)')
    .option('--allow-warn', 'do not fail the run for a kernel WARNING alone')
    .option('--console', 'copy the guest console to stderr')
    .option('--json', 'print the result as JSON (output included) instead of streaming it')
    .action(async (words: string[], f: VmRunFlags) => (await import('../actions/vm.js')).vmRun(ctx, setExit, words, f));
}
