import type { BuildErrorData } from './build-codes.js';
import type { CatalogPart } from './catalog-types.js';
import { EXIT } from './exit.js';

export const buildCatalog: CatalogPart<BuildErrorData> = {
  PATCH_EMPTY: {
    exitCode: EXIT.usage,
    message: (d) => `${d.file} contains no file changes`,
    hint: () => 'give a unified diff (git diff, diff -u), with ---/+++ headers and @@ hunks',
  },
  PATCH_MALFORMED: {
    exitCode: EXIT.usage,
    message: (d) => `${d.file}:${d.line}: ${d.detail}`,
    hint: () => 'the diff must be a unified diff as git diff or diff -u writes it; check that it was not re-wrapped or truncated',
  },
  PATCH_PATH_OUTSIDE: {
    exitCode: EXIT.usage,
    message: (d) => `${d.file}: path ${d.path} leaves the kernel source tree`,
    hint: () => 'paths in the diff must be relative to the top of the kernel tree (a/fs/..., b/fs/...)',
  },
  PATCH_UNSUPPORTED_FILE: {
    exitCode: EXIT.error,
    message: (d) => `${d.file}: ${d.path}: changes to ${d.kind} are not supported yet`,
    hint: () => 'only C sources (.c) and headers can be live patched from a diff; leave this file out of the patch',
  },
  PATCH_OTHER_ARCH: {
    exitCode: EXIT.error,
    message: (d) => `${d.file}: ${d.path}: ${d.arch} code, which an x86_64 kernel never builds (the release's source tree leaves it out)`,
    hint: () => "drop that file's part of the diff: a fix for several architectures is built from its x86 and common parts",
  },
  PATCH_MAKEFILE_CHANGE: {
    exitCode: EXIT.error,
    message: (d) =>
      `${d.file}: ${d.path}: the diff changes more of the Makefile than adding ${d.objects.length ? `the new files' objects (${d.objects.join(', ')})` : 'the objects of new .c files'}; ` +
      'a live patch cannot change how the kernel was built',
    hint: () => 'keep only the lines (or words) that add the new .c files\' objects to an existing list such as obj-y or a module\'s <name>-y',
  },
  PATCH_NEW_FILE_UNWIRED: {
    exitCode: EXIT.error,
    message: (d) => `${d.file}: ${d.path} is a new file, but the diff adds its object to no Makefile: kbuild would not build it`,
    hint: () => "add its object to its directory's Makefile in the same diff (obj-y += name.o, or the <module>-y list of the module it belongs to)",
  },
  PATCH_NEW_FILE_LIST: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.file}: ${d.makefile} adds the new ${d.path} to ${d.list}: ${d.why}`,
    hint: () => 'add it to obj-y for vmlinux, or to the object list of a module the release already builds',
  },
  PATCH_NEW_FILE_NOT_BUILT: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.path} joins ${d.list} in ${d.makefile}, but the release builds no object of that list there: there is no kbuild command to take its flags from (or the list is not built)`,
    hint: () => 'add the new file to a list the release builds (one with other objects of the same directory)',
  },
  LAYOUT_CHANGED: {
    exitCode: EXIT.unpatchable,
    message: (d) =>
      `${d.header}:${d.line}: the patch changes the layout of ${d.record} (${d.member}); objects of the old layout live on in the running kernel` +
      (d.units.length ? `, and ${d.units.length} built unit(s) use it: ${d.units.slice(0, 8).join(', ')}${d.units.length > 8 ? ', …' : ''}` : ''),
    hint: () =>
      'keep the layout as it is and attach the new field to existing objects with a shadow variable (klp_shadow_get_or_alloc; see examples/cmdline-reads.patch and include/linux/rebootless.h)',
  },
  HEADER_CHANGE_TOO_WIDE: {
    exitCode: EXIT.unpatchable,
    message: (d) => `the change to ${d.headers.join(', ')} reaches ${d.names} definitions and ${d.units} built units (more than ${d.limit}): too much of the kernel to replace live`,
    hint: () => 'narrow the header change (a new helper beside the old one, used only by the fixed code) so that few units compile differently',
  },
  PATCH_DOES_NOT_APPLY: {
    exitCode: EXIT.error,
    message: (d) => `${d.file}: ${d.path}: hunk ${d.hunk} (at line ${d.line}) does not apply: ${d.detail}`,
    hint: () => "the diff was made against other sources; regenerate it against this release's linux-source (rebootless kernel show RELEASE gives its sourceTree)",
  },
  BUILD_UNPATCHABLE: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.object}: the change cannot be live patched:\n${d.reasons.map((r) => `  ${r}`).join('\n')}`,
    hint: () => 'each reason above says what to do instead; no module was written',
  },
  BUILD_NO_CHANGE: {
    exitCode: EXIT.noChange,
    message: (d) => `the diff makes no functional change to ${d.objects.join(', ')}`,
    hint: () => 'nothing to patch (comments, whitespace or __LINE__ shifts only); no module was written',
  },
  BUILD_SYMBOL_UNRESOLVED: {
    exitCode: EXIT.error,
    message: (d) => `${d.object}: cannot tell which ${d.target} symbol '${d.symbol}' is meant: ${d.why}`,
    hint: () => 'the object does not match the release (check the compiler with rebootless doctor), or the name repeats in ways sympos cannot tell apart; report it',
  },
  RUN_PRE_MISMATCH: {
    exitCode: EXIT.unpatchable,
    message: (d) =>
      `${d.object}: ${d.function}+0x${d.offset.toString(16)}: the code compiled from the release's source is not the code in ${d.target}: ${d.why}\n` +
      `  compiled: ${d.compiled}\n  ${d.target}: ${d.running}` +
      (d.candidates.length ? `\n  compared with each ${d.function} there: ${d.candidates.join(', ')}` : ''),
    hint: () =>
      'nothing was written: a patch built from this source would not replace the code the kernel runs. Is the tree the one the kernel was built from (a local change, another version)? the same .config? the same compiler (rebootless doctor)? --skip-run-pre builds anyway and says so in the module',
  },
  RUN_PRE_AMBIGUOUS: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.object}: ${d.function}: the compiled code matches more than one place in ${d.target}: ${d.candidates.join(', ')}`,
    hint: () => 'identical copies cannot be told apart by their code, nor by their file: report the object and the diff to rebootless',
  },
  BUILD_REFERENCE_UNRESOLVED: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.object}: ${d.from}: the reference to ${d.target} cannot be tied to the running kernel: ${d.why}`,
    hint: () => 'no module was written: a patch that used its own copy of this would not do what the source says; report the object and the diff to rebootless',
  },
  BUILD_STATIC_BRANCH: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.object}: a patched function uses the static key ${d.key} of module ${d.owner}, which it does not export; a live patch reaches it only once ${d.owner} is loaded, after the kernel has set up the patch's static branches`,
    hint: () => 'test the key with static_key_enabled() (a plain read) in the patched code instead of static_branch_*()',
  },
  BUILD_CALLBACK_TWICE: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.object}: registers a ${d.kind} callback for ${d.target}, which another file of the patch registers too; the livepatch core calls one of each kind per target`,
    hint: () => 'register one function for the target and call the others from it',
  },
  BUILD_NEW_GLOBAL_TWICE: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.symbol} is a new global of both ${d.objects.join(' and ')}: the patch module could not tell which one a reference means (the kernel would not link it either)`,
    hint: () => 'define it in one file and declare it extern (in a header) in the others',
  },
  BUILD_STATE_CONFLICT: {
    exitCode: EXIT.unpatchable,
    message: (d) => `${d.object}: declares state ${d.id}, which the patch declares at versions ${d.versions}; a patch has one version of each state`,
    hint: () => 'declare each state once (REBOOTLESS_STATE in one file), at the version the patch implements',
  },
  BUILD_MODULE_CHECK: {
    exitCode: EXIT.error,
    message: (d) => `${d.module}: the linked module would not load: ${d.problem}`,
    hint: () => 'this is a rebootless bug for this patch; rerun with --keep-workdir and report the work directory',
  },
  BUILD_TARGET_MODULE_MISSING: {
    exitCode: EXIT.error,
    message: (d) => `the patched code belongs to module ${d.module}, but ${d.release} ships no ${d.module}.ko (modules.dep in ${d.modulesDir})`,
    hint: () => 'the module is built from a config option the release does not enable as a module; patch the release that ships it, or check the file the diff changes',
  },
  BUILD_GENERATED_CODE_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `${d.module}: the module source rebootless generated did not build (${d.command}); this is a rebootless bug, not a problem with your patch:\n${d.output}`,
    hint: (d) => `the generated sources are kept in ${d.workdir}: please report this message with livepatch.c and Kbuild from there, and the diff you built`,
  },
  BUILD_COMPILER_MISMATCH: {
    exitCode: EXIT.error,
    message: (d) => `${d.release} was built by '${d.kernel}', but the objects compiled here say '${d.object}'; code from another compiler may not match the running kernel`,
    hint: () => "install the release's compiler (rebootless doctor names it, and --install installs it), then build again",
  },
  BUILD_COMPILE_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `${d.source} (${d.variant}) does not compile for this release:\n${d.output}`,
    hint: (d) =>
      d.variant === 'patched'
        ? 'the patched source has an error the compiler names above: fix the diff (it must compile against this release\'s tree, which may be older than the one the fix was written for)'
        : 'the release\'s own source does not compile here: the tree or its compiler is not the one the release was built with (rebootless kernel verify RELEASE; rebootless doctor)',
  },
  KBUILD_COMMAND_UNKNOWN: {
    exitCode: EXIT.error,
    message: (d) => `kbuild has no rule to compile ${d.object} in ${d.tree} (make -n printed no compile command for it):\n${d.output}`,
    hint: () => 'check that the diff names a .c file that this release builds (its Makefile must list it for the release\'s .config)',
  },
  KBUILD_RECORD_UNSUPPORTED: {
    exitCode: EXIT.error,
    message: (d) => `kbuild compiles ${d.object} with a command rebootless cannot replay (${d.detail}): ${d.record}`,
    hint: () => 'this kernel\'s kbuild compiles units in a way rebootless does not know yet; please report the command above',
  },
  SIGN_INPUT_UNREADABLE: {
    exitCode: EXIT.usage,
    message: (d) => `cannot read the signing ${d.what} ${d.path}: ${d.reason}`,
    hint: () =>
      "give --sign-key a PEM private key (or a pkcs11: URI) and --sign-cert its X.509 certificate (PEM or DER); make a pair with: openssl req -new -x509 -newkey rsa:4096 -nodes -days 3650 -subj '/CN=my live patches/' -addext extendedKeyUsage=codeSigning -keyout key.pem -out cert.pem",
  },
  SIGN_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `signing ${d.module} failed: ${d.reason}${d.outputTail ? `\n${d.outputTail}` : ''}`,
    hint: () => 'check that --sign-key and --sign-cert are a pair (the certificate holds the key\'s public half); nothing was written',
  },
};
