import type { Command } from 'commander';
import type { PackageFlags, RepoAddFlags } from '../actions/package.js';
import type { CliContext, SetExit } from '../context.js';

export function registerPackage(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('package')
    .description(
      "make a Debian package of a livepatch module (rebootless-livepatch-NAME: installs it for its exact release, applies it now and at every boot, reverts it on removal), or with --self of rebootless itself (on Debian's nodejs)",
    )
    .argument('[module.ko]', 'the livepatch module (not with --self)')
    .option('--self', "package rebootless itself (the 'rebootless' package the patch packages depend on)")
    .option('--version <version>', 'the Debian version (default: 0.TIMESTAMP for a patch, the npm version for --self)')
    .option('--out <dir>', 'where to write the .deb', '.')
    .option('--json', 'print the report as JSON')
    .action(async (ko: string | undefined, f: PackageFlags) => (await import('../actions/package.js')).packageCommand(ctx, setExit, ko, f));

  const repo = program.command('repo').description('keep an apt repository of patch packages (reprepro), signed with your OpenPGP key');
  repo
    .command('add')
    .description('add .deb packages to an apt repository folder (made on first use), sign it, and export its public key beside it as rebootless-archive.gpg; serve the folder over HTTP')
    .argument('<repo>', 'the repository folder')
    .argument('<deb...>', 'the packages')
    .requiredOption('--sign-key <key>', 'the OpenPGP key (id, fingerprint or user id) that signs the repository')
    .option('--suite <name>', 'the suite (codename) the hosts run', 'bookworm')
    .option('--gnupg-home <dir>', 'the GnuPG home holding the key (default: GNUPGHOME or ~/.gnupg)')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, debs: string[], f: RepoAddFlags) => (await import('../actions/package.js')).repoAddCommand(ctx, setExit, dir, debs, f));
}
