// Debian suite families: the archive suites that serve one kind of kernel
// ABI, read together through one private apt state (kernel/apt-state.ts).
// Pure data; release.ts's familiesOfRelease maps a release name to its families.

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const DEBIAN_SECURITY_MIRROR = 'http://deb.debian.org/debian-security';

export interface ArchiveSuite {
  uri: string;
  suite: string;
}

export interface SuiteFamily {
  name: string;
  /** The Debian release whose toolchain built these kernels, e.g. `bookworm`. */
  codename: string;
  /** The compiler Debian built these kernels with (informational; vmlinux's `.comment` decides). */
  compiler: string;
  suites: ArchiveSuite[];
  /**
   * The ABI tags of the release names it serves (`6.12.95+deb12` → `deb12`).
   * One tag may be served by two families: bookworm-security carries
   * 6.12.N+deb12 (~deb12u1) as bookworm-backports does (~bpo12).
   */
  abiTags: string[];
  /** Untagged ABIs (`6.1.0-57`) of this series belong here. */
  untaggedSeries?: string;
  /** An example release name, for messages. */
  example: string;
}

const stable = (codename: string): ArchiveSuite[] => [
  { uri: DEBIAN_MIRROR, suite: codename },
  { uri: DEBIAN_MIRROR, suite: `${codename}-updates` },
  { uri: DEBIAN_SECURITY_MIRROR, suite: `${codename}-security` },
];

export const SUITE_FAMILIES: readonly SuiteFamily[] = [
  {
    name: 'bookworm',
    codename: 'bookworm',
    compiler: 'gcc-12',
    suites: stable('bookworm'),
    abiTags: ['deb12'],
    untaggedSeries: '6.1',
    example: '6.1.0-57-cloud-amd64',
  },
  {
    name: 'bookworm-backports',
    codename: 'bookworm',
    compiler: 'gcc-12',
    suites: [{ uri: DEBIAN_MIRROR, suite: 'bookworm-backports' }],
    abiTags: ['deb12'],
    example: '6.12.95+deb12-cloud-amd64',
  },
  { name: 'trixie', codename: 'trixie', compiler: 'gcc-14', suites: stable('trixie'), abiTags: ['deb13'], example: '6.12.117+deb13-cloud-amd64' },
];

/** The family taken when neither a release nor the host names one. */
export const DEFAULT_FAMILY = 'bookworm';

/** The amd64 kernel flavours, in the order they are listed. */
export const AMD64_FLAVORS = ['cloud-amd64', 'amd64', 'rt-amd64'] as const;

export function findFamilyByName(name: string): SuiteFamily | undefined {
  return SUITE_FAMILIES.find((f) => f.name === name);
}

export interface AbiParts {
  /** `6.1`, `6.12` */
  series: string;
  /** `deb12` of `6.12.95+deb12` or `6.12.115+deb13.1`; absent for `6.1.0-57`. */
  tag?: string;
}

/** `6.1.0-57` → {6.1}; `6.12.115+deb13.1` → {6.12, deb13}. */
export function parseAbi(abi: string): AbiParts | undefined {
  const m = /^(\d+)\.(\d+)\.\d+(?:-\d+)?(?:\+([a-z]+\d+)(?:\.\d+)?)?$/.exec(abi);
  if (!m) return undefined;
  return { series: `${m[1]}.${m[2]}`, ...(m[3] ? { tag: m[3] } : {}) };
}

/** The family of the host's own Debian release (`VERSION_CODENAME` of os-release), else the default. */
export function defaultFamily(hostCodename: string | undefined): SuiteFamily {
  return SUITE_FAMILIES.find((f) => f.name === hostCodename) ?? (findFamilyByName(DEFAULT_FAMILY) as SuiteFamily);
}

/** Orders flavours as AMD64_FLAVORS lists them, unknown ones last. */
export function flavorRank(flavor: string): number {
  const i = (AMD64_FLAVORS as readonly string[]).indexOf(flavor);
  return i < 0 ? AMD64_FLAVORS.length : i;
}
