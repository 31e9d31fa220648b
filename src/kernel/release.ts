import { RebootlessError } from '../errors/index.js';
import { compareDebianVersions } from './debian-version.js';

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

export interface AptKernelIndex {
  /** package name → versions available (from apt-cache madison) */
  versions: Map<string, string[]>;
}

export interface ReleaseCandidate {
  release: string;
  debianVersion: string;
  flavor: string;
  series: string;
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
      return { release, debianVersion: v, flavor: name.flavor, series, packages };
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
  if (idx.versions.size === 0) throw new RebootlessError('APT_LISTS_EMPTY', {});
  if (input.requested) {
    const c = candidateFor(idx, input.requested);
    if (c) return c;
    if (idx.versions.has(`linux-image-${input.requested}`) && parseReleaseName(input.requested)) {
      throw new RebootlessError('RELEASE_INCOMPLETE', { release: input.requested, missing: missingPackages(idx, input.requested) });
    }
    throw new RebootlessError('RELEASE_UNKNOWN', {
      release: input.requested,
      available: listCandidates(idx).map((x) => x.release),
    });
  }
  if (input.hostRelease) {
    const c = candidateFor(idx, input.hostRelease);
    if (c) return c;
  }
  const all = listCandidates(idx).filter((c) => c.flavor === flavor);
  if (all.length === 0) throw new RebootlessError('NO_DEFAULT_RELEASE', { flavor });
  const meta = [...(idx.versions.get(`linux-image-${flavor}`) ?? [])].sort(compareDebianVersions).at(-1);
  const metaSeries = meta ? seriesOfVersion(meta) : undefined;
  return all.find((c) => c.series === metaSeries) ?? (all[0] as ReleaseCandidate);
}
