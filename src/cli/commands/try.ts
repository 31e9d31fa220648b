import type { Command } from 'commander';
import type { TryFlags } from '../actions/try.js';
import type { CliContext, SetExit } from '../context.js';
import { collect } from '../options.js';

export function registerTry(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('try')
    .description('prove a livepatch module in a throwaway VM of its release: check, rebootless apply (the running code checked, loaded, transition), check, rebootless revert, check')
    .argument('<module.ko>', 'the livepatch module')
    .option('--kernel <release>', 'kernel release (default: the only fetched one)')
    .option('--check <shell>', 'command whose output shows the patch working', 'true')
    .option('--setup <shell>', 'command run before the first check (e.g. modprobe of the patched module)')
    .option('--module <name>', 'ship a module of the release for modprobe (repeatable)', collect, [])
    .option('--json', 'print the report as JSON')
    .action(async (ko: string, f: TryFlags) => (await import('../actions/try.js')).tryModule(ctx, setExit, ko, f));
}
