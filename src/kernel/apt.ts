import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError, isRebootlessError } from '../errors/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { runCommand } from '../util/process.js';
import { parseControlStanza, parseDepends, parseMadison, type Dependency } from './apt-parse.js';
import { DEFAULT_FLAVOR, parseReleaseName, type AptKernelIndex } from './release.js';

// Asking apt (its local package lists; no network) which kernel packages exist.

async function pkgnames(prefix: string): Promise<string[]> {
  const { stdout } = await runCommand('apt-cache', ['pkgnames', prefix]);
  return stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** Versions of every kernel package rebootless may need, in one madison call. */
export async function readAptKernelIndex(extraReleases: string[] = [], flavor = DEFAULT_FLAVOR): Promise<AptKernelIndex> {
  const [images, sources] = await Promise.all([pkgnames('linux-image-'), pkgnames('linux-source-')]);
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
  names.add(`linux-image-${flavor}`);
  const { stdout } = await runCommand('apt-cache', ['madison', ...names]);
  return { versions: parseMadison(stdout) };
}

export interface PackageInfo {
  name: string;
  version: string;
  size: number;
  installedSize: number;
  depends: Dependency[];
  filename: string;
}

export async function showPackage(name: string, version: string): Promise<PackageInfo> {
  let stdout: string;
  try {
    ({ stdout } = await runCommand('apt-cache', ['show', `${name}=${version}`]));
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
  };
}

const NETWORK_FAILURE = /(Temporary failure resolving|Could not resolve|Could not connect|Failed to fetch|Connection failed|Connection timed out|Network is unreachable|Unable to connect)/i;

/** Downloads package files into `dir` with `apt-get download`. */
export async function downloadPackages(dir: string, pkgs: { name: string; version: string }[], signal?: AbortSignal): Promise<void> {
  try {
    await runCommand('apt-get', ['download', '-q', ...pkgs.map((p) => `${p.name}=${p.version}`)], {
      cwd: dir,
      signal,
      // apt drops privileges to _apt for downloads; the cache directory may not be
      // readable by that user, so download as the caller.
      env: { LC_ALL: 'C' },
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

const APT_STATE = ['/var/lib/apt/lists', '/etc/apt/sources.list', '/etc/apt/sources.list.d', '/var/cache/apt/pkgcache.bin'];

/** Identifies the state of apt's package lists: changes whenever `apt-get update` or the sources change. */
async function aptStateKey(): Promise<string> {
  const parts = await Promise.all(APT_STATE.map((p) => fsp.stat(p).then((st) => `${p}:${st.mtimeMs}:${st.size}`, () => `${p}:-`)));
  return parts.join('|');
}

/**
 * readAptKernelIndex, remembered in `file` for as long as apt's lists are
 * unchanged, so a warm `kernel fetch` does not pay for apt-cache (~1 s).
 */
export async function readAptKernelIndexCached(file: string, extraReleases: string[] = []): Promise<AptKernelIndex> {
  const key = `${await aptStateKey()}|${[...extraReleases].sort().join(',')}`;
  try {
    const stored = JSON.parse(await fsp.readFile(file, 'utf8')) as { key?: string; versions?: [string, string[]][] };
    if (stored.key === key && Array.isArray(stored.versions)) return { versions: new Map(stored.versions) };
  } catch {
    // no usable memo
  }
  const idx = await readAptKernelIndex(extraReleases);
  if (idx.versions.size > 0) {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ key, versions: [...idx.versions] }));
  }
  return idx;
}
