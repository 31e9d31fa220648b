import type { Command } from 'commander';
import type { BuildFlags } from '../actions/build.js';
import type { CliContext, SetExit } from '../context.js';
import { collect } from '../options.js';

export function registerBuild(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('build')
    .description('build a livepatch module from a source diff (compiles only the changed files; exit 2 unpatchable, 3 no functional change)')
    .argument('<patch...>', 'unified diffs against the release source (.c files)')
    .option('--kernel <release>', 'kernel release (default: as `kernel fetch`; fetched if missing)')
    .option('-o, --output <file.ko>', 'where to write the module (default: livepatch_NAME.ko)')
    .option('--name <name>', 'patch name; the module is livepatch_NAME (default: the first patch file name)')
    .option('--description <text>', 'recorded in the module')
    .option('--cve <id>', 'CVE id fixed by the patch, recorded in the module (repeatable)', collect, [])
    .option('--no-replace', 'stack on the loaded patches instead of atomically replacing them')
    .option('--json <report>', 'also write the build report as JSON to this file')
    .option('--skip-run-pre', "build without proving the original code is the code the release runs (loud; recorded as run_pre=skipped in the module's .modinfo)")
    .option('--sign-key <key>', "sign the module with this private key (PEM, or a pkcs11: URI) using the release tree's scripts/sign-file; needs --sign-cert")
    .option('--sign-cert <cert>', 'the X.509 certificate of --sign-key (PEM or DER); the signature is checked against it')
    .option('--keep-workdir', 'keep the work directory (source copies, objects, module sources); never swept by later builds')
    .action(async (patches: string[], f: BuildFlags) => (await import('../actions/build.js')).build(ctx, setExit, patches, f));
}
