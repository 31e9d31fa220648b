import type { Command } from 'commander';
import type { ApplyFlags, RevertFlags } from '../actions/apply.js';
import type { CliContext, SetExit } from '../context.js';

const DEFAULT_TIMEOUT = '60s';

export function registerApply(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('apply')
    .description('load a livepatch module into the running kernel and follow the transition within a time bound (root)')
    .argument('<module.ko>', 'the livepatch module (from rebootless build)')
    .option('--timeout <duration>', 'bound for the transition; past it the apply is reversed and the module unloaded', DEFAULT_TIMEOUT)
    .option('--no-wait', 'return once the module is loaded; the kernel finishes the transition on its own')
    .option('--force', 'past the bound, force the remaining tasks instead of reversing (needs the next flag)')
    .option('--i-understand-force-is-permanent', 'confirm --force: tasks switched unchecked; modules of replaced patches can never be removed')
    .option('--skip-run-pre', "load without comparing the running code of the replaced functions with the release's (loud; status shows it)")
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Before loading, the running code of every replaced function (/proc/kcore at its /proc/kallsyms address) is
compared with the release's bytes the module carries, tolerating what the kernel rewrites (ftrace, alternatives,
paravirt, static branches and calls, retpolines, return thunks) and the KASLR offset.
Exit codes: 0 applied, 2 the machine runs other code than the release (LIVE_CODE_MISMATCH: nothing loaded),
75 the transition timed out and was reversed (kernel unchanged), 1 error.`)
    .action(async (ko: string, f: ApplyFlags) => (await import('../actions/apply.js')).apply(ctx, setExit, ko, f));

  program
    .command('revert')
    .description('disable a live patch, follow the transition back within a time bound, unload its module (root)')
    .argument('[name]', 'the patch (module) name, as rebootless list shows it')
    .option('--all', 'revert every loaded patch, newest first')
    .option('--timeout <duration>', 'bound for each transition; past it the patch is re-enabled (kernel unchanged)', DEFAULT_TIMEOUT)
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Exit codes: 0 reverted, 75 the transition timed out and the patch was re-enabled (kernel unchanged), 1 error.`)
    .action(async (name: string | undefined, f: RevertFlags) => (await import('../actions/apply.js')).revert(ctx, setExit, name, f));
}
