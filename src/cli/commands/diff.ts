import type { Command } from 'commander';
import type { DiffFlags } from '../actions/diff.js';
import type { CliContext, SetExit } from '../context.js';

export function registerDiff(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('diff')
    .description('compare two compilations of one source file: what changed, and whether it can be live patched (exit 0 patchable, 2 unpatchable, 3 no change)')
    .argument('<orig>', 'object compiled from the original source')
    .argument('<patched>', 'object compiled from the patched source')
    .option('--module', 'the object belongs to a kernel module (static keys and calls it defines cannot be used)')
    .option('--json', 'print the full result as JSON')
    .action(async (origPath: string, patchedPath: string, opts: DiffFlags) => (await import('../actions/diff.js')).diff(ctx, setExit, origPath, patchedPath, opts));
}
