import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError, isRebootlessError } from '../errors/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { runCommand } from '../util/process.js';
import { silentProgress } from '../util/progress.js';
import { parseControlStanza, parseDepends, parseMadisonIndex, type Dependency } from './apt-parse.js';
import { aptEnv, listsStateKey, refreshLists, type AptState } from './apt-state.js';
import { parseReleaseName, type AptKernelIndex } from './release.js';
import { AMD64_FLAVORS } from './suites.js';

// Asking apt which kernel packages exist and downloading them, always
// through one suite family's own apt state (apt-state.ts), never the host's.
// Queries read the local lists (no network); refreshing them is apt-state's.

async function pkgnames(state: AptState, prefix: string): Promise<string[]> {
  const { stdout } = await runCommand('apt-cache', ['pkgnames', prefix], { env: aptEnv(state) });
  return stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** Versions of every kernel package rebootless may need in one family, in one madison call. */
export async function readAptKernelIndex(state: AptState, extraReleases: string[] = []): Promise<AptKernelIndex> {
  const [images, sources] = await Promise.all([pkgnames(state, 'linux-image-'), pkgnames(state, 'linux-source-')]);
  const releases = new Set<string>();
  for (const name of images) {
    const m = /^linux-image-(.+)-dbg$/.exec(name);
    if (m && parseReleaseName(m[1] as string)) releases.add(m[1] as string);
  }
  for (const r of extraReleases) if (parseReleaseName(r)) releases.add(r);
  const names = new Set<string>(sources.filter((s) => /^linux-source-\d+\.\d+$/.test(s)));
  for (const r of releases) {
    names.add(`linux-image-${r}`);
    names.add(`linux-headers-${r}`);
    names.add(`linux-image-${r}-dbg`);
  }
  for (const f of AMD64_FLAVORS) names.add(`linux-image-${f}`);
  const { stdout } = await runCommand('apt-cache', ['madison', ...names], { env: aptEnv(state) });
  return parseMadisonIndex(state.family.name, stdout);
}

export interface PackageInfo {
  name: string;
  version: string;
  size: number;
  installedSize: number;
  depends: Dependency[];
  filename: string;
  /** The apt state it was found in, which downloads it. */
  apt: AptState;
}

export async function showPackage(state: AptState, name: string, version: string): Promise<PackageInfo> {
  let stdout: string;
  try {
    ({ stdout } = await runCommand('apt-cache', ['show', `${name}=${version}`], { env: aptEnv(state) }));
  } catch (e) {
    if (isRebootlessError(e) && e.code === 'COMMAND_FAILED') {
      throw new RebootlessError('PACKAGE_UNAVAILABLE', { packageName: name, version });
    }
    throw e;
  }
  const f = parseControlStanza(stdout);
  if (f.get('Version') !== version) throw new RebootlessError('PACKAGE_UNAVAILABLE', { packageName: name, version });
  return {
    name,
    version,
    size: Number(f.get('Size') ?? 0),
    installedSize: Number(f.get('Installed-Size') ?? 0) * 1024,
    depends: parseDepends(f.get('Depends') ?? ''),
    filename: f.get('Filename') ?? '',
    apt: state,
  };
}

const NETWORK_FAILURE = /(Temporary failure resolving|Could not resolve|Could not connect|Failed to fetch|Connection failed|Connection timed out|Network is unreachable|Unable to connect)/i;

/**
 * Downloads package files into `dir` with `apt-get download`, through the
 * apt state each package was found in. A package the archive no longer has
 * at that place (lists older than the archive) is retried once after the
 * lists are refreshed.
 */
export async function downloadPackages(dir: string, pkgs: Pick<PackageInfo, 'name' | 'version' | 'apt'>[], signal?: AbortSignal): Promise<void> {
  const byState = new Map<AptState, typeof pkgs>();
  for (const p of pkgs) byState.set(p.apt, [...(byState.get(p.apt) ?? []), p]);
  for (const [state, group] of byState) {
    try {
      await downloadFrom(state, dir, group, signal);
    } catch (e) {
      if (!isRebootlessError(e) || e.code !== 'PACKAGE_UNAVAILABLE') throw e;
      await refreshLists(state, { progress: silentProgress, force: true, ...(signal ? { signal } : {}) });
      await downloadFrom(state, dir, group, signal);
    }
  }
}

async function downloadFrom(state: AptState, dir: string, pkgs: { name: string; version: string }[], signal?: AbortSignal): Promise<void> {
  try {
    await runCommand('apt-get', ['download', '-q', ...pkgs.map((p) => `${p.name}=${p.version}`)], {
      cwd: dir,
      ...(signal ? { signal } : {}),
      env: aptEnv(state),
    });
  } catch (e) {
    if (isRebootlessError(e) && e.code === 'COMMAND_FAILED') {
      const text = (e.data as { stderrTail: string }).stderrTail;
      const gone = /404\s+Not Found.*?([a-z0-9.+-]+)_([^_]+)_\w+\.deb/i.exec(text) ?? (/404\s+Not Found/i.test(text) ? [] : null);
      if (gone) {
        // apt's lists are older than the archive: the file was replaced or removed
        throw new RebootlessError('PACKAGE_UNAVAILABLE', { packageName: gone[1] ?? pkgs.map((p) => p.name).join(' '), version: gone[2] ?? '' });
      }
      const net = NETWORK_FAILURE.exec(text);
      if (net) throw new RebootlessError('REGISTRY_UNREACHABLE', { detail: text.split('\n').find((l) => NETWORK_FAILURE.test(l))?.trim() ?? net[0] });
      const missing = /Version '([^']+)' for '([^']+)' was not found|Unable to locate package (\S+)/.exec(text);
      if (missing) {
        throw new RebootlessError('PACKAGE_UNAVAILABLE', { packageName: missing[2] ?? missing[3] ?? '?', version: missing[1] ?? '' });
      }
    }
    throw e;
  }
}

/**
 * readAptKernelIndex, remembered beside the family's lists for as long as
 * they are unchanged, so a warm `kernel fetch` does not pay for apt-cache (~1 s).
 */
export async function readAptKernelIndexCached(state: AptState, extraReleases: string[] = []): Promise<AptKernelIndex> {
  const file = path.join(state.dir, 'kernel-index.json');
  const key = `${await listsStateKey(state)}|${[...extraReleases].sort().join(',')}`;
  type Stored = { key?: string; versions?: [string, string[]][]; suites?: [string, [string, string][]][] };
  try {
    const stored = JSON.parse(await fsp.readFile(file, 'utf8')) as Stored;
    if (stored.key === key && Array.isArray(stored.versions) && Array.isArray(stored.suites)) {
      return { family: state.family.name, versions: new Map(stored.versions), suites: new Map(stored.suites.map(([p, v]) => [p, new Map(v)])) };
    }
  } catch {
    // no usable memo
  }
  const idx = await readAptKernelIndex(state, extraReleases);
  if (idx.versions.size > 0) {
    const stored: Stored = { key, versions: [...idx.versions], suites: [...idx.suites].map(([p, v]) => [p, [...v]]) };
    await writeFileAtomic(file, JSON.stringify(stored));
  }
  return idx;
}
