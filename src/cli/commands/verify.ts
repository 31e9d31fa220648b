import type { Command } from 'commander';
import type { CliContext, SetExit } from '../context.js';

export function registerVerify(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('verify')
    .description("check a livepatch module against its release without loading it: every .klp.sym and export exists, and each replaced function refers to the same kernel data and functions as the original")
    .argument('<module.ko>', 'the livepatch module')
    .option('--kernel <release>', 'kernel release (default: the one the module was built for, if fetched)')
    .option('--json', 'print the report as JSON')
    .action(async (ko: string, f: { kernel?: string; json?: boolean }) => (await import('../actions/verify.js')).verify(ctx, setExit, ko, f));
}
