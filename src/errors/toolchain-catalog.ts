import type { CatalogPart } from './catalog-types.js';
import { EXIT } from './exit.js';
import type { ToolchainErrorData } from './toolchain-codes.js';

const keyringTrouble = (tail: string): boolean => /NO_PUBKEY|not signed|EXPKEYSIG|signatures couldn't be verified/i.test(tail);
const networkTrouble = (tail: string): boolean => /Could not resolve|Failed to fetch|Temporary failure|Connection (timed out|refused)/i.test(tail);

export const toolchainCatalog: CatalogPart<ToolchainErrorData> = {
  TOOLCHAIN_UNAVAILABLE: {
    exitCode: EXIT.error,
    message: (d) => `the kernel was built with '${d.compiler}'; the host's compiler ${d.host === null ? 'is missing' : `writes '${d.host}'`}, and ${d.reason}`,
    hint: () => 'install that exact compiler on the host (objects must come from the compiler that built the kernel), or build for a Debian kernel, whose compiler rebootless can fetch into a build root',
  },
  BUILD_ROOT_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `could not make the Debian ${d.suite} build root in ${d.dir}: ${d.step} failed` + (d.outputTail ? `\n${d.outputTail}` : ''),
    hint: (d) =>
      keyringTrouble(d.outputTail)
        ? `the host's debian-archive-keyring does not verify ${d.suite}: upgrade it (apt-get install debian-archive-keyring), then run the same command again`
        : networkTrouble(d.outputTail)
          ? 'check the network access to deb.debian.org, then run the same command again; the unfinished root was removed'
          : 'read the output above, then run the same command again; an unfinished root is removed and never used',
  },
  BUILD_ROOT_COMPILER_UNAVAILABLE: {
    exitCode: EXIT.error,
    message: (d) => `the kernel was built with '${d.compiler}', but Debian ${d.suite} no longer serves ${d.packageName} ${d.version}`,
    hint: () => 'objects must come from the exact compiler that built the kernel: pick a newer release of this kernel series (rebootless kernel fetch --list), built with the compiler the archive serves now',
  },
  BUILD_ROOT_COMPILER_MISMATCH: {
    exitCode: EXIT.error,
    message: (d) => `the ${d.suite} build root ${d.root} writes '${d.found}' into objects, not '${d.expected}'`,
    hint: (d) => `remove ${d.root} and run the same command again; if it happens again, report it with both compiler strings`,
  },
};
