import { promises as fsp } from 'node:fs';
import { RebootlessError, isRebootlessError } from '../errors/index.js';
import type { Progress } from '../util/progress.js';
import { readAptKernelIndexCached } from './apt.js';
import { aptStateFor, refreshLists, type AptState } from './apt-state.js';
import { compareDebianVersions } from './debian-version.js';
import { candidateFor, familiesOfRelease, listCandidates, releaseNotFound, resolveRelease, type AptKernelIndex, type ReleaseCandidate } from './release.js';
import { SUITE_FAMILIES, defaultFamily, flavorRank, type SuiteFamily } from './suites.js';
import { listWorkspaces } from './workspace.js';

// Which Debian kernel releases can be fetched right now, across the suite
// families, each read through its own apt state: the release `kernel fetch`
// takes, and the list `kernel fetch --list` prints.

export interface FetchableRelease {
  release: string;
  /** The suite family, e.g. `bookworm-backports` (suites.ts). */
  family: string;
  /** The archive suite serving the image at that version, e.g. `bookworm-security`. */
  suite: string;
  flavor: string;
  debianVersion: string;
  series: string;
  /** The release this machine runs. */
  host: boolean;
  /** Already fetched into the cache. */
  cached: boolean;
}

/** Every complete release of the given indexes: by family (as SUITE_FAMILIES lists them), flavour, newest first. */
export function fetchableReleases(indexes: AptKernelIndex[], marks: { hostRelease?: string; cached: ReadonlySet<string> }): FetchableRelease[] {
  const familyRank = (name: string): number => SUITE_FAMILIES.findIndex((f) => f.name === name);
  const rows: FetchableRelease[] = [];
  for (const idx of indexes) {
    for (const c of listCandidates(idx)) {
      rows.push({
        release: c.release,
        family: c.family,
        suite: c.suite,
        flavor: c.flavor,
        debianVersion: c.debianVersion,
        series: c.series,
        host: c.release === marks.hostRelease,
        cached: marks.cached.has(c.release),
      });
    }
  }
  return rows.sort(
    (a, b) =>
      familyRank(a.family) - familyRank(b.family) ||
      flavorRank(a.flavor) - flavorRank(b.flavor) ||
      compareDebianVersions(b.debianVersion, a.debianVersion) ||
      b.release.localeCompare(a.release),
  );
}

export interface SuiteQuery {
  cacheRoot: string;
  progress: Progress;
  signal?: AbortSignal;
}

/** The family's kernel index, its lists first updated when missing or old (`refreshed` then). */
async function readIndex(q: SuiteQuery, apt: AptState, extraReleases: string[], maxAgeMs?: number): Promise<{ idx: AptKernelIndex; refreshed: boolean }> {
  const refreshed = await refreshLists(apt, { progress: q.progress, ...(q.signal ? { signal: q.signal } : {}), ...(maxAgeMs !== undefined ? { maxAgeMs } : {}) });
  return { idx: await readAptKernelIndexCached(apt, extraReleases), refreshed };
}

/** Lists updated this recently are not updated again only because a release was not found in them. */
const RECHECK_AFTER_MS = 10 * 60_000;

/**
 * Looks for something in each family's lists, in order. When no family has
 * it and some lists were not just updated, updates those and looks once more
 * (the archive moves faster than lists a few hours old).
 */
async function lookUp<T>(
  q: SuiteQuery,
  families: readonly SuiteFamily[],
  extraReleases: string[],
  find: (idx: AptKernelIndex) => T | undefined,
): Promise<{ found?: { value: T; apt: AptState }; indexes: AptKernelIndex[] }> {
  const seen: { apt: AptState; idx: AptKernelIndex; refreshed: boolean }[] = [];
  for (const family of families) {
    const apt = aptStateFor(q.cacheRoot, family);
    const { idx, refreshed } = await readIndex(q, apt, extraReleases);
    const value = find(idx);
    if (value !== undefined) return { found: { value, apt }, indexes: [idx] };
    seen.push({ apt, idx, refreshed });
  }
  for (const s of seen) {
    if (s.refreshed) continue;
    const again = await readIndex(q, s.apt, extraReleases, RECHECK_AFTER_MS);
    if (!again.refreshed) continue;
    s.idx = again.idx;
    const value = find(again.idx);
    if (value !== undefined) return { found: { value, apt: s.apt }, indexes: [again.idx] };
  }
  return { indexes: seen.map((s) => s.idx) };
}

export interface FindReleaseInput extends SuiteQuery {
  requested?: string;
  /** `uname -r` of this machine */
  hostRelease: string;
  /** VERSION_CODENAME of this machine's os-release, when Debian */
  hostCodename?: string;
}

/**
 * The release `kernel fetch` works on, with the apt state that fetches it:
 * the one named (in its own suite families); else the host's release when
 * Debian has it; else the default of the host's Debian family (bookworm on
 * anything else): its newest complete cloud-amd64 release of the series the
 * flavour's metapackage points at.
 */
export async function findRelease(input: FindReleaseInput): Promise<{ candidate: ReleaseCandidate; apt: AptState }> {
  const fallback = defaultFamily(input.hostCodename ?? (await readHostCodename()));
  if (input.requested) {
    const requested = input.requested;
    const families = familiesOfRelease(requested);
    // a name of no family is refused with releases of the default family for company
    const r = await lookUp(input, families.length ? families : [fallback], [requested], (idx) => candidateFor(idx, requested));
    if (r.found) return { candidate: r.found.value, apt: r.found.apt };
    const empty = r.indexes.find((idx) => idx.versions.size === 0);
    if (empty) throw new RebootlessError('APT_LISTS_EMPTY', { family: empty.family });
    throw releaseNotFound(r.indexes, requested);
  }
  for (const family of familiesOfRelease(input.hostRelease)) {
    const apt = aptStateFor(input.cacheRoot, family);
    const candidate = candidateFor((await readIndex(input, apt, [input.hostRelease])).idx, input.hostRelease);
    if (candidate) return { candidate, apt };
  }
  const r = await lookUp(input, [fallback], [], (idx) => {
    try {
      return resolveRelease(idx, {});
    } catch (e) {
      if (isRebootlessError(e) && (e.code === 'NO_DEFAULT_RELEASE' || e.code === 'APT_LISTS_EMPTY')) return undefined;
      throw e;
    }
  });
  if (r.found) return { candidate: r.found.value, apt: r.found.apt };
  // the refusal, from the freshest lists
  return { candidate: resolveRelease(r.indexes[0] as AptKernelIndex, {}), apt: aptStateFor(input.cacheRoot, fallback) };
}

/** Every release that can be fetched now, from every family (lists updated as needed), marked host and cached. */
export async function listFetchableReleases(input: SuiteQuery & { hostRelease: string; families?: readonly SuiteFamily[] }): Promise<FetchableRelease[]> {
  const indexes: AptKernelIndex[] = [];
  for (const family of input.families ?? SUITE_FAMILIES) {
    indexes.push((await readIndex(input, aptStateFor(input.cacheRoot, family), [])).idx);
  }
  const cached = new Set((await listWorkspaces(input.cacheRoot)).filter((w) => w.state === 'ready').map((w) => w.release));
  return fetchableReleases(indexes, { hostRelease: input.hostRelease, cached });
}

/** VERSION_CODENAME of /etc/os-release (e.g. `bookworm`), if any. */
export async function readHostCodename(file = '/etc/os-release'): Promise<string | undefined> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  return /^VERSION_CODENAME=["']?([a-z]+)["']?\s*$/m.exec(text)?.[1];
}
