import type { Command } from 'commander';
import type { CliContext, SetExit } from '../context.js';

export function registerDoctor(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('doctor')
    .description('check the host programs and packages rebootless needs (and install them with --install)')
    .option('--install', 'install missing packages with apt-get (root only)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { install?: boolean; json?: boolean }) => (await import('../actions/doctor.js')).doctor(ctx, setExit, opts));
}
