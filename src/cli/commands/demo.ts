import type { Command } from 'commander';
import type { CliContext, SetExit } from '../context.js';

export function registerDemo(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('demo')
    .description('the main job: fetch the default kernel, build examples/cmdline.patch into a live patch, prove it in a VM, then apply, inspect and revert it there with the live commands')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => (await import('../actions/demo.js')).demo(ctx, setExit, opts));
}
