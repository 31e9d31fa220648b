// Error codes of fleet roll-out: Debian packages of patches, apt repositories, VEX (src/fleet).
export interface FleetErrorData {
  PACKAGE_VERSION_INVALID: { version: string };
  PACKAGE_BUILD_FAILED: { package: string; outputTail: string };
  REPO_KEY_UNKNOWN: { keyId: string; gnupgHome: string };
  REPO_NOT_A_DEB: { file: string };
  REPO_NOT_REPREPRO: { repo: string };
  REPO_FAILED: { repo: string; step: string; outputTail: string };
  VEX_NOTHING_TO_STATE: { release: string; skipped: string[] };
}
