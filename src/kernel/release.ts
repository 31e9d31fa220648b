import { RebootlessError } from '../errors/index.js';
import { compareDebianVersions } from './debian-version.js';
import { SUITE_FAMILIES, flavorRank, parseAbi, type SuiteFamily } from './suites.js';

// Which Debian kernel releases can be fetched, and which one to take by
// default. Pure: works on what apt-cache printed, so it is tested with
// recorded output.

export const DEFAULT_FLAVOR = 'cloud-amd64';

export interface ReleaseName {
  release: string;
  /** e.g. `6.1.0-57` or `6.12.117+deb12` */
  abi: string;
  /** e.g. `cloud-amd64` */
  flavor: string;
}

export function parseReleaseName(release: string): ReleaseName | undefined {
  const m = /^(\d+\.\d+\.\d+(?:-\d+)?(?:\+[a-z0-9.]+)?)-([a-z][a-z0-9-]*)$/.exec(release);
  if (!m) return undefined;
  return { release, abi: m[1] as string, flavor: m[2] as string };
}

/** `6.1.192-3` → `6.1`; `6.12.117-1~deb12u1` → `6.12`. */
export function seriesOfVersion(debianVersion: string): string | undefined {
  const m = /^(?:\d+:)?(\d+)\.(\d+)/.exec(debianVersion);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/**
 * The suite families that may serve a release, in the order to ask them:
 * `6.1.0-57-amd64` → bookworm; `6.12.117+deb13-amd64` → trixie;
 * `6.12.95+deb12-amd64` → bookworm (its security suite) and bookworm-backports.
 */
export function familiesOfRelease(release: string): SuiteFamily[] {
  const name = parseReleaseName(release);
  const abi = name && parseAbi(name.abi);
  if (!abi) return [];
  return SUITE_FAMILIES.filter((f) => (abi.tag ? f.abiTags.includes(abi.tag) : f.untaggedSeries === abi.series));
}

/** What one suite family's package lists hold. */
export interface AptKernelIndex {
  /** The suite family whose lists these are (suites.ts). */
  family: string;
  /** package name → versions available (from apt-cache madison) */
  versions: Map<string, string[]>;
  /** package name → version → the archive suite serving it (the first madison lists) */
  suites: Map<string, Map<string, string>>;
}

export interface ReleaseCandidate {
  release: string;
  debianVersion: string;
  flavor: string;
  series: string;
  /** The suite family whose apt state fetches it. */
  family: string;
  /** The archive suite serving the image at that version, e.g. `bookworm-security`. */
  suite: string;
  packages: { image: string; headers: string; dbg: string; source: string };
}

const has = (idx: AptKernelIndex, pkg: string, version: string): boolean =>
  (idx.versions.get(pkg) ?? []).includes(version);

/** What a release still lacks to be fetchable at its newest image version (empty when complete). */
export function missingPackages(idx: AptKernelIndex, release: string): string[] {
  const image = `linux-image-${release}`;
  const versions = idx.versions.get(image) ?? [];
  if (versions.length === 0) return [image];
  const newest = [...versions].sort(compareDebianVersions).at(-1) as string;
  const series = seriesOfVersion(newest) ?? '?';
  return [`linux-headers-${release}`, `linux-image-${release}-dbg`, `linux-source-${series}`]
    .filter((p) => !has(idx, p, newest))
    .map((p) => `${p} (= ${newest})`);
}

/** The newest complete version of one release, if any. */
export function candidateFor(idx: AptKernelIndex, release: string): ReleaseCandidate | undefined {
  const name = parseReleaseName(release);
  if (!name) return undefined;
  const image = `linux-image-${release}`;
  const versions = [...(idx.versions.get(image) ?? [])].sort(compareDebianVersions).reverse();
  for (const v of versions) {
    const series = seriesOfVersion(v);
    if (!series) continue;
    const packages = {
      image,
      headers: `linux-headers-${release}`,
      dbg: `linux-image-${release}-dbg`,
      source: `linux-source-${series}`,
    };
    if (has(idx, packages.headers, v) && has(idx, packages.dbg, v) && has(idx, packages.source, v)) {
      const suite = idx.suites.get(image)?.get(v) ?? idx.family;
      return { release, debianVersion: v, flavor: name.flavor, series, family: idx.family, suite, packages };
    }
  }
  return undefined;
}

/** Every release apt knows with image, headers, -dbg and exact-version source, newest first. */
export function listCandidates(idx: AptKernelIndex): ReleaseCandidate[] {
  const out: ReleaseCandidate[] = [];
  for (const pkg of idx.versions.keys()) {
    const m = /^linux-image-(.+)-dbg$/.exec(pkg);
    if (!m) continue;
    const c = candidateFor(idx, m[1] as string);
    if (c) out.push(c);
  }
  return out.sort((a, b) => compareDebianVersions(b.debianVersion, a.debianVersion) || b.release.localeCompare(a.release));
}

/** The series of a release name: `6.1.0-54-amd64` → `6.1`. */
function seriesOfRelease(release: string): string | undefined {
  const name = parseReleaseName(release);
  return name && parseAbi(name.abi)?.series;
}

/**
 * Fetchable releases close to one that is not: same series and flavour
 * first, then same flavour, then same series. Within each, the newest of
 * every family and series comes before the second newest of any, so a
 * short list still shows each kernel line (bookworm's 6.1 and 6.12,
 * backports' 6.12).
 */
export function closeReleases(candidates: ReleaseCandidate[], release: string, limit = 5): string[] {
  const flavor = parseReleaseName(release)?.flavor;
  const series = seriesOfRelease(release);
  const rank = (c: ReleaseCandidate): number => (c.flavor === flavor ? 0 : 2) + (c.series === series ? 0 : 1);
  const newestFirst = [...candidates].filter((c) => c.release !== release).sort((a, b) => compareDebianVersions(b.debianVersion, a.debianVersion));
  const seen = new Map<string, number>();
  const place = new Map<ReleaseCandidate, number>();
  for (const c of newestFirst) {
    const line = `${c.family} ${c.series} ${c.flavor}`;
    const n = seen.get(line) ?? 0;
    place.set(c, n);
    seen.set(line, n + 1);
  }
  return newestFirst
    .map((c, i) => ({ c, i, r: rank(c) }))
    .sort((a, b) => a.r - b.r || (place.get(a.c) ?? 0) - (place.get(b.c) ?? 0) || flavorRank(a.c.flavor) - flavorRank(b.c.flavor) || a.i - b.i)
    .slice(0, limit)
    .map((x) => x.c.release);
}

/**
 * Why a release is not in any of the families' indexes: RELEASE_INCOMPLETE
 * naming the packages the archive lacks when an index has its image, else
 * RELEASE_UNKNOWN; both name close releases that can be fetched.
 */
export function releaseNotFound(indexes: AptKernelIndex[], release: string): RebootlessError {
  const available = closeReleases(indexes.flatMap(listCandidates), release);
  const withImage = indexes.find((idx) => idx.versions.has(`linux-image-${release}`));
  if (withImage && parseReleaseName(release)) {
    return new RebootlessError('RELEASE_INCOMPLETE', { release, missing: missingPackages(withImage, release), available });
  }
  return new RebootlessError('RELEASE_UNKNOWN', { release, families: familiesOfRelease(release).map((f) => f.name), available });
}

export interface ResolveInput {
  requested?: string;
  /** `uname -r` of this machine */
  hostRelease?: string;
  flavor?: string;
}

/**
 * The release to work on: the one asked for; else the host's own release when
 * Debian has its packages; else the newest complete release of the flavor,
 * preferring the kernel series Debian's flavor metapackage (e.g.
 * `linux-image-cloud-amd64`) points at, so a bookworm host gets bookworm's own
 * kernel rather than a backport.
 */
export function resolveRelease(idx: AptKernelIndex, input: ResolveInput): ReleaseCandidate {
  const flavor = input.flavor ?? DEFAULT_FLAVOR;
  if (idx.versions.size === 0) throw new RebootlessError('APT_LISTS_EMPTY', { family: idx.family });
  if (input.requested) {
    const c = candidateFor(idx, input.requested);
    if (c) return c;
    throw releaseNotFound([idx], input.requested);
  }
  if (input.hostRelease) {
    const c = candidateFor(idx, input.hostRelease);
    if (c) return c;
  }
  const all = listCandidates(idx).filter((c) => c.flavor === flavor);
  if (all.length === 0) throw new RebootlessError('NO_DEFAULT_RELEASE', { flavor, family: idx.family });
  const meta = [...(idx.versions.get(`linux-image-${flavor}`) ?? [])].sort(compareDebianVersions).at(-1);
  const metaSeries = meta ? seriesOfVersion(meta) : undefined;
  return all.find((c) => c.series === metaSeries) ?? (all[0] as ReleaseCandidate);
}
