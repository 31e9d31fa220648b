import type { Command } from 'commander';
import type { CliContext, SetExit } from '../context.js';

export function registerStatus(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('list')
    .description('list the live patches loaded in the running kernel')
    .option('--json', 'print the status JSON (schema rebootless.status/1, see docs/status-schema.md)')
    .action(async (f: { json?: boolean }) => (await import('../actions/status.js')).list(ctx, setExit, f));

  program
    .command('status')
    .description('show loaded live patches in detail: state, transition, objects and functions, description, CVEs, taint')
    .argument('[name]', 'only this patch')
    .option('--json', 'print the status JSON (schema rebootless.status/1, see docs/status-schema.md)')
    .option('--vex', "print an OpenVEX document: 'fixed' in the running kernel for each CVE of a live, fully transitioned patch (exit 3 when there is none to state)")
    .action(async (name: string | undefined, f: { json?: boolean; vex?: boolean }) => (await import('../actions/status.js')).status(ctx, setExit, name, f));
}
