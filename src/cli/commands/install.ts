import type { Command } from 'commander';
import type { CliContext, SetExit } from '../context.js';

export function registerInstall(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('install')
    .description('keep a livepatch module under /var/lib/rebootless/<release>/ and load it at boot on that release (systemd unit) (root)')
    .argument('<module.ko>', 'the livepatch module')
    .option('--json', 'print the report as JSON')
    .action(async (ko: string, f: { json?: boolean }) => (await import('../actions/install.js')).install(ctx, setExit, ko, f));

  program
    .command('uninstall')
    .description('stop loading an installed live patch at boot (the loaded patch stays until rebootless revert) (root)')
    .argument('<name>', 'the patch (module) name')
    .option('--kernel <release>', 'the release it was installed for (default: the running one)')
    .option('--json', 'print the report as JSON')
    .action(async (name: string, f: { kernel?: string; json?: boolean }) => (await import('../actions/install.js')).uninstall(ctx, setExit, name, f));

  program
    .command('installed')
    .description('list the live patches installed for boot, per release, in stacking order')
    .option('--json', 'print the list as JSON')
    .action(async (f: { json?: boolean }) => (await import('../actions/install.js')).installed(ctx, setExit, f));

  program
    .command('load-installed')
    .description('apply the patches installed for the running release, in stacking order (what the boot unit runs) (root)')
    .option('--timeout <duration>', 'bound for each transition', '60s')
    .option('--json', 'print the report as JSON')
    .action(async (f: { timeout: string; json?: boolean }) => (await import('../actions/install.js')).loadInstalledPatches(ctx, setExit, f));
}
