import type { Command } from 'commander';
import type { KernelAddFlags } from '../actions/kernel/add.js';
import type { KernelFetchFlags } from '../actions/kernel/fetch.js';
import type { CliContext, SetExit } from '../context.js';

// One subcommand a block; each action loads its own file under actions/kernel/
// when it runs, so `kernel list` never loads what `kernel fetch` needs.

export function registerKernel(program: Command, ctx: CliContext, setExit: SetExit): void {
  const kernel = program.command('kernel').description('fetch and inspect cached Debian kernel workspaces');

  kernel
    .command('fetch')
    .description(
      "download, unpack and prepare a Debian kernel release (default: the host's release if Debian has it, else the newest cloud-amd64 release of the series Debian's metapackage points at); " +
        'with --list, show the releases that can be fetched',
    )
    .argument('[release]', 'kernel release, e.g. 6.1.0-57-cloud-amd64, 6.12.95+deb12-amd64 (bookworm-backports), 6.12.117+deb13-rt-amd64 (trixie)')
    .option('--list', 'list the releases that can be fetched now (image, headers, -dbg and linux-source at one version), per suite family and flavour, marking the host\'s and the cached ones; fetches nothing')
    .option('--json', 'print the workspace (with --list: the releases) as JSON')
    .addHelpText('after', `
Releases come from Debian's archive (deb.debian.org) through rebootless's own
apt state per suite family, under the cache (CACHE/apt/FAMILY); the host's apt
configuration is neither read nor changed. Families and the releases they serve:
  bookworm            bookworm, -updates, -security: 6.1.0-N-*, 6.12.N+deb12-*
  bookworm-backports  bookworm-backports: 6.12.N+deb12-*
  trixie              trixie, -updates, -security: 6.12.N+deb13-*
Flavours: cloud-amd64, amd64, rt-amd64. A family's package lists are updated
when older than 12 hours, and again when a release is not found in them.`)
    .action(async (release: string | undefined, opts: KernelFetchFlags) => (await import('../actions/kernel/fetch.js')).kernelFetch(ctx, setExit, release, opts));

  kernel
    .command('list')
    .description('list the kernel releases in the cache')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => (await import('../actions/kernel/list.js')).kernelList(ctx, setExit, opts));

  kernel
    .command('add')
    .description('register a kernel built elsewhere (an in-tree kbuild build: mainline, another distribution, a custom config) under NAME, for build and try with --kernel NAME')
    .argument('<name>', 'the name to use with --kernel')
    .requiredOption('--build-dir <dir>', 'the built tree: vmlinux, .config, Module.symvers, System.map (never written: builds only read it)')
    .option('--source <dir>', 'the source tree (must be the build directory: out-of-tree O= builds are not supported yet)')
    .option('--vmlinuz <file>', 'the bootable image try boots (default: the build\'s arch/x86/boot/bzImage)')
    .option('--modules <dir>', 'its lib/modules/RELEASE directory (with modules.dep), for patches to modules and the VM')
    .option('--json', 'print the registered workspace as JSON')
    .action(async (name: string, opts: KernelAddFlags) => (await import('../actions/kernel/add.js')).kernelAdd(ctx, setExit, name, opts));

  kernel
    .command('show')
    .description('show the paths and facts of a fetched release')
    .argument('<release>', 'kernel release')
    .option('--json', 'print as JSON')
    .action(async (release: string, opts: { json?: boolean }) => (await import('../actions/kernel/show.js')).kernelShow(ctx, setExit, release, opts));

  kernel
    .command('users')
    .description("list vmlinux's units that use a file of the tree (a header): those whose DWARF line table, in the release's debug vmlinux, names it (every header whose functions, types or declarations a unit uses; not one that only defines macros it expands; modules' units are not covered)")
    .argument('<release>', 'kernel release')
    .argument('<file...>', 'files relative to the source tree (include/linux/seq_file.h, fs/proc/internal.h)')
    .option('--json', 'print as JSON')
    .action(async (release: string, files: string[], opts: { json?: boolean }) => (await import('../actions/kernel/users.js')).kernelUsers(ctx, setExit, release, files, opts));

  kernel
    .command('verify')
    .description("check that a release's prepared tree is byte for byte as `kernel fetch` (or `kernel add`) left it: every file and symlink against the content manifest recorded then (exit 1 and the differences when not)")
    .argument('<release>', 'kernel release (or the name given to kernel add)')
    .option('--full', 'read and hash every file (default: hash only the files whose size, time or inode moved)')
    .option('--json', 'print the report as JSON')
    .action(async (release: string, opts: { full?: boolean; json?: boolean }) => (await import('../actions/kernel/verify.js')).kernelVerify(ctx, setExit, release, opts));
}
