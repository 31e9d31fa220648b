import type { CatalogPart } from './catalog-types.js';
import { EXIT } from './exit.js';
import { list } from './format.js';
import type { BlockerSummary, RuntimeErrorData } from './runtime-codes.js';

const blockerList = (b: BlockerSummary[]): string =>
  list(b.map((t) => `${t.comm}[${t.pid}]${t.functions.length ? ` in ${t.functions.join(', ')}` : ''}`), 6);

export const runtimeCatalog: CatalogPart<RuntimeErrorData> = {
  MODULE_FILE_MISSING: {
    exitCode: EXIT.usage,
    message: (d) => `cannot read module ${d.path} (${d.reason})`,
    hint: () => "give the path of a .ko built by 'rebootless build'",
  },
  LIVE_CODE_MISMATCH: {
    exitCode: EXIT.unpatchable,
    message: (d) =>
      `${d.module}: ${d.object}:${d.function}+0x${d.offset.toString(16)}: this machine runs other code than the release the patch was built for: ${d.why}\n` +
      `  release: ${d.expected}\n  running: ${d.running}`,
    hint: () =>
      'nothing was loaded. Another build of this release (a rebuilt or locally modified kernel)? A kprobe or another tool writing kernel text (/sys/kernel/debug/kprobes/list)? Rebuild the patch against the kernel this machine runs; --skip-run-pre loads anyway',
  },
  LIVE_CODE_UNREADABLE: {
    exitCode: EXIT.error,
    message: (d) => `cannot read the running kernel's code from ${d.path}: ${d.reason}`,
    hint: () => 'run as root on a kernel with /proc/kcore (CONFIG_PROC_KCORE) and without lockdown=confidentiality; --skip-run-pre loads without the check',
  },
  WRONG_RELEASE: {
    exitCode: EXIT.error,
    message: (d) => `${d.file} was built for ${d.moduleRelease}, but the running kernel is ${d.running}`,
    hint: (d) => `build the patch for the running release: rebootless kernel fetch ${d.running} && rebootless build PATCH --kernel ${d.running}`,
  },
  LIVEPATCH_UNSUPPORTED: {
    exitCode: EXIT.error,
    message: (d) => `the running kernel ${d.release} has no livepatch support (${d.path} does not exist)`,
    hint: () => 'live patching needs a kernel built with CONFIG_LIVEPATCH=y (Debian kernels have it); on other kernels a reboot is the only way to apply the fix',
  },
  MODULE_ALREADY_LOADED: {
    exitCode: EXIT.error,
    message: (d) => `module ${d.name} is already loaded${d.livepatch ? '' : ' (its live patch is no longer enabled)'}`,
    hint: (d) => (d.livepatch ? `see it with 'rebootless status ${d.name}'; to load a new build, revert the old one first: rebootless revert ${d.name}` : `remove the leftover module first: rebootless revert ${d.name}`),
  },
  MODULE_SIGNATURE_REQUIRED: {
    exitCode: EXIT.error,
    message: (d) => `the kernel would refuse ${d.file}: it is not signed and ${d.reasons.join('; ')}`,
    hint: () => 'build it signed (rebootless build --sign-key KEY.pem --sign-cert CERT.pem) with a key the kernel trusts (enrolled with mokutil --import), or apply it on a host without module signature enforcement',
  },
  MODULE_SIGNER_UNTRUSTED: {
    exitCode: EXIT.error,
    message: (d) => `the kernel requires signed modules and would refuse ${d.file}: it is signed by ${d.signer}`,
    hint: () =>
      "enroll the signing certificate as a Machine Owner Key, then reboot and confirm it in the MOK manager (UEFI Secure Boot with shim): openssl x509 -in CERT.pem -outform DER -out cert.der && mokutil --import cert.der; after the reboot it is in the .machine keyring and /proc/keys lists it. Or sign with a key the kernel already trusts",
  },
  MODULE_LOAD_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `loading ${d.file} failed: ${d.reason}${d.output ? `\n${d.output}` : ''}`,
    hint: () => "the kernel log says more: dmesg | tail; the kernel was left as it was",
  },
  MODULE_UNLOAD_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `the patch is disabled but module ${d.name} could not be unloaded within ${d.seconds}s: ${d.output}`,
    hint: (d) => `the kernel runs unpatched code; remove the module later with 'rebootless revert ${d.name}' (or rmmod ${d.name})`,
  },
  TRANSITION_BUSY: {
    exitCode: EXIT.error,
    message: (d) => `live patch ${d.patch} is still in transition after waiting ${d.seconds}s; the kernel runs one transition at a time`,
    hint: (d) => `see what holds it with 'rebootless status ${d.patch}', then try again (or give a longer --timeout)`,
  },
  APPLY_REVERSED_REPLACED: {
    exitCode: EXIT.error,
    message: (d) =>
      `${d.name}: the transition ran out of time and was reversed, but it had already completed and replaced ${list(d.replaced)}: those patches are no longer active and ${d.name} was unloaded`,
    hint: (d) => `the kernel runs without ${list(d.replaced)}; apply them again (their modules are still loaded: revert them first) or apply ${d.name} with a longer --timeout`,
  },
  LIVE_INTERRUPTED: {
    exitCode: EXIT.interrupted,
    message: (d) => `interrupted while ${d.what} ${d.name}; ${d.state}`,
    hint: () => "'rebootless status' shows what is live; run the same command again when ready",
  },
  APPLY_TIMED_OUT: {
    exitCode: EXIT.unchanged,
    message: (d) => `${d.name}: the transition did not finish within ${d.seconds}s (blocked by ${blockerList(d.blockers)}); it was reversed and the module unloaded: the kernel is unchanged`,
    hint: () => "the blocking tasks sleep inside patched functions; try again when they are idle, wake them, or give a longer --timeout ('rebootless predict FILE.ko' shows them beforehand)",
  },
  REVERT_TIMED_OUT: {
    exitCode: EXIT.unchanged,
    message: (d) => `${d.name}: disabling did not finish within ${d.seconds}s (blocked by ${blockerList(d.blockers)}); the patch was re-enabled: the kernel is unchanged`,
    hint: () => 'the blocking tasks sleep inside the new functions; try again later or give a longer --timeout',
  },
  REVERSAL_STALLED: {
    exitCode: EXIT.error,
    message: (d) => `${d.name}: the reversed transition back to ${d.target} did not finish within ${d.seconds}s either (blocked by ${blockerList(d.blockers)}); the patch stays loaded and in transition`,
    hint: (d) => `watch it with 'rebootless status ${d.name}'; the kernel keeps retrying and signals blocking tasks every 15 s`,
  },
  SYSFS_WRITE_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `the kernel refused '${d.value}' written to ${d.path} (${d.reason})`,
    hint: () => "EBUSY: another patch is in transition, try again; EINVAL: the patch is already in that state; 'rebootless status' shows where it stands",
  },
  PATCH_NOT_LOADED: {
    exitCode: EXIT.error,
    message: (d) => `no live patch or livepatch module named ${d.name} is loaded (loaded: ${list(d.loaded)})`,
    hint: () => "'rebootless list' shows the loaded patches; names are module names (dashes and underscores are the same)",
  },
  FORCE_NOT_CONFIRMED: {
    exitCode: EXIT.usage,
    message: () =>
      '--force switches the remaining tasks without checking their stacks (a task inside an old function may run old and new code mixed), and the modules of any patches a replace patch supersedes can then never be removed',
    hint: () => 'add --i-understand-force-is-permanent to confirm, or leave --force out and let the timeout reverse the apply',
  },
  NOT_INSTALLED: {
    exitCode: EXIT.error,
    message: (d) => `no patch named ${d.name} is installed for ${d.release} (installed: ${list(d.installed)})`,
    hint: () => "'rebootless installed' lists what is installed, per release",
  },
};
