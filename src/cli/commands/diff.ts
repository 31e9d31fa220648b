import type { Command } from 'commander';
import type { DiffFlags } from '../actions/diff.js';
import type { CliContext, SetExit } from '../context.js';

export function registerDiff(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('diff')
    .description('compare two compilations of one source file: what changed, and whether it can be live patched (exit 0 patchable, 2 unpatchable, 3 no change)')
    .argument('<orig>', 'object compiled from the original source')
    .argument('<patched>', 'object compiled from the patched source')
    .argument('[more...]', 'further ORIG PATCHED pairs, diffed one after the other in the same run')
    .option('--module', 'the object belongs to a kernel module (static keys and calls it defines cannot be used)')
    .option('--json', 'print the full result as JSON')
    .addHelpText('after', `
With several pairs, the results are printed pair after pair (--json: {"diffs": [result, ...]}),
--module applies to each, and the exit code is the worst verdict's: 2 when a pair is
unpatchable, else 3 when a pair has no functional change, else 0.`)
    .action(async (orig: string, patched: string, more: string[], opts: DiffFlags) => (await import('../actions/diff.js')).diff(ctx, setExit, [orig, patched, ...more], opts));
}
