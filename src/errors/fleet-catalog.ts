import type { CatalogPart } from './catalog-types.js';
import { EXIT } from './exit.js';
import type { FleetErrorData } from './fleet-codes.js';

const indent = (text: string): string => text.split('\n').map((l) => `    ${l}`).join('\n');

export const fleetCatalog: CatalogPart<FleetErrorData> = {
  PACKAGE_VERSION_INVALID: {
    exitCode: EXIT.usage,
    message: (d) => `'${d.version}' is not a Debian version`,
    hint: () => 'a version starts with a digit and holds letters, digits and . + ~ - : only (e.g. 1.0 or 2~fix1); newer must sort higher',
  },
  PACKAGE_BUILD_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `dpkg-deb could not build ${d.package}:\n${indent(d.outputTail)}`,
    hint: () => 'check that the output folder is writable and has room',
  },
  REPO_KEY_UNKNOWN: {
    exitCode: EXIT.usage,
    message: (d) => `no secret key '${d.keyId}' in the GnuPG home ${d.gnupgHome}`,
    hint: () => "list the keys with 'gpg --list-secret-keys', or make one: gpg --quick-gen-key 'NAME <EMAIL>' ed25519 sign never; pass --gnupg-home DIR when it is not ~/.gnupg",
  },
  REPO_NOT_A_DEB: {
    exitCode: EXIT.usage,
    message: (d) => `${d.file} is not a Debian package`,
    hint: () => "make one with 'rebootless package MODULE.ko' (or --self for rebootless itself)",
  },
  REPO_NOT_REPREPRO: {
    exitCode: EXIT.usage,
    message: (d) => `${d.repo} is a folder with files but not a reprepro repository (no conf/distributions)`,
    hint: () => 'give an empty or new folder for a new repository, or the folder of an existing one',
  },
  REPO_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `${d.step} failed in ${d.repo}:\n${indent(d.outputTail)}`,
    hint: () => 'a version already in the repository cannot be added again with other content: give the package a higher --version',
  },
  VEX_NOTHING_TO_STATE: {
    exitCode: EXIT.noChange,
    message: (d) =>
      `no live patch on ${d.release} backs a 'fixed' claim, so there is no VEX statement to make${d.skipped.length ? `:\n${indent(d.skipped.join('\n'))}` : ' (no live patches loaded)'}`,
    hint: () => "a patch is claimed once it is enabled, its transition finished (rebootless status), and it was applied by rebootless from a module that records its CVEs (build --cve)",
  },
};
