import type { Command } from 'commander';
import type { CliContext, SetExit } from '../context.js';

export function registerPredict(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('predict')
    .description('before applying: list the tasks whose kernel stacks hold a function the patch replaces (root)')
    .argument('<module.ko>', 'the livepatch module')
    .option('--json', 'print the prediction as JSON')
    .action(async (ko: string, f: { json?: boolean }) => (await import('../actions/predict.js')).predict(ctx, setExit, ko, f));
}
