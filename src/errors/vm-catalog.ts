import type { CatalogPart } from './catalog-types.js';
import { EXIT } from './exit.js';
import { list } from './format.js';
import type { VmErrorData } from './vm-codes.js';

const indent = (text: string): string => text.split('\n').map((l) => `    ${l}`).join('\n');

export const vmCatalog: CatalogPart<VmErrorData> = {
  VM_NO_RELEASE: {
    exitCode: EXIT.error,
    message: (d) => (d.fetched.length === 0 ? 'no kernel release has been fetched' : `several kernel releases are fetched (${list(d.fetched)}); which one?`),
    hint: (d) => (d.fetched.length === 0 ? "run 'rebootless kernel fetch' first" : 'name one with --kernel RELEASE'),
  },
  VM_PATH_COLLISION: {
    exitCode: EXIT.usage,
    message: (d) => `two things want guest path ${d.guestPath}: ${d.first} and ${d.second}`,
    hint: () => 'give each --file its own guest path with HOST:GUEST',
  },
  VM_FILE_MISSING: {
    exitCode: EXIT.usage,
    message: (d) => `file ${d.path} does not exist or is not a regular file`,
    hint: () => 'check the HOST part of --file HOST[:GUEST]',
  },
  VM_CLI_NOT_BUILT: {
    exitCode: EXIT.error,
    message: (d) => `--with-cli needs the built CLI, but ${d.path} is missing`,
    hint: () => "run 'npm run build' (npm ci does it) in the rebootless checkout",
  },
  VM_BOOT_TIMEOUT: {
    exitCode: EXIT.timeout,
    message: (d) => `the VM did not come up within ${d.seconds}s; last console lines:\n${indent(d.consoleTail)}`,
    hint: () => 'raise --boot-timeout (software emulation is slow on a busy machine), or read the console lines for a boot failure',
  },
  VM_COMMAND_TIMEOUT: {
    exitCode: EXIT.timeout,
    message: (d) =>
      `the command did not finish within ${d.seconds}s and the VM was killed: ${d.command}` +
      (d.outputTail ? `\n  its output so far:\n${indent(d.outputTail)}` : '') +
      (d.consoleTail ? `\n  last console lines:\n${indent(d.consoleTail)}` : ''),
    hint: () => 'raise --timeout, or make the command finish on its own',
  },
  VM_KERNEL_TROUBLE: {
    exitCode: EXIT.kernelTrouble,
    message: (d) => `the guest kernel reported trouble (${d.kinds.join(', ')}):\n${indent(d.excerpt)}`,
    hint: () => 'read the console excerpt; a WARNING alone can be accepted with --allow-warn',
  },
  VM_EXITED: {
    exitCode: EXIT.error,
    message: (d) =>
      `QEMU exited unexpectedly (${d.signal ? `signal ${d.signal}` : `exit ${String(d.exitCode)}`})` +
      (d.stderrTail ? `:\n${indent(d.stderrTail)}` : '') +
      (d.consoleTail ? `\n  last console lines:\n${indent(d.consoleTail)}` : ''),
    hint: () => 'check that qemu-system-x86 works (rebootless doctor) and that the machine has free memory',
  },
  VM_STOPPED: {
    exitCode: EXIT.error,
    message: () => 'the VM was already stopped',
    hint: () => 'start a new VM for further commands',
  },
  VM_TRY_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `the patch failed in the VM at step '${d.step}'${d.output ? `:\n${indent(d.output.trimEnd())}` : ''}`,
    hint: () => 'read the step output; rerun with --console to see the guest kernel log',
  },
  NOT_A_LIVEPATCH: {
    exitCode: EXIT.usage,
    message: (d) => `${d.file} is not a livepatch module (no "livepatch=Y" in its .modinfo)`,
    hint: () => "build one with 'rebootless build PATCH'",
  },
  VM_NOT_DEBIAN: {
    exitCode: EXIT.usage,
    message: (d) => `${d.what} needs a Debian guest; this one is the busybox initramfs`,
    hint: () => 'start the guest with --debian (CLI) or { debian: true } (Vm.start)',
  },
  VM_DEBIAN_SUITE_UNKNOWN: {
    exitCode: EXIT.error,
    message: (d) => `release ${d.release} belongs to suite '${d.suite}', of which rebootless knows no Debian archive to make a guest from`,
    hint: () => 'use the busybox guest (without --debian), or a release of bookworm, bookworm-backports or trixie',
  },
  VM_DEBIAN_IMAGE_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `making the Debian guest image of ${d.release} failed at ${d.step}:\n${indent(d.outputTail)}`,
    hint: () => "check that deb.debian.org is reachable (apt-get update) and the release's linux-image package is still served; run again (finished steps are kept)",
  },
};
