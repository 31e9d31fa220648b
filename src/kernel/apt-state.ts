import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RebootlessError, isRebootlessError } from '../errors/index.js';
import { pathExists, writeFileAtomic } from '../util/fs.js';
import { acquireLock } from '../util/lock.js';
import { runCommand } from '../util/process.js';
import type { Progress } from '../util/progress.js';
import type { SuiteFamily } from './suites.js';

// rebootless's own apt state, one per suite family, under the cache:
// <cache>/apt/<family>/{apt.conf, etc/, lists/, cache/, status}. apt reads
// only the file APT_CONFIG names (which points every Dir:: at this
// directory), so neither /etc/apt nor /var/lib/apt is read or written.

export const ARCHIVE_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** Lists older than this are refreshed before use. */
export const LISTS_MAX_AGE_MS = 12 * 3600_000;

export interface AptState {
  family: SuiteFamily;
  /** `<cache>/apt/<family>` */
  dir: string;
}

export function aptStateFor(cacheRoot: string, family: SuiteFamily): AptState {
  return { family, dir: path.join(cacheRoot, 'apt', family.name) };
}

const at = (s: AptState) => ({
  conf: path.join(s.dir, 'apt.conf'),
  etc: path.join(s.dir, 'etc'),
  sources: path.join(s.dir, 'etc', 'sources.list'),
  lists: path.join(s.dir, 'lists'),
  cache: path.join(s.dir, 'cache'),
  log: path.join(s.dir, 'log'),
  status: path.join(s.dir, 'status'),
  /** Written after each successful `apt-get update`: its mtime is the lists' age (outside lists/, which apt cleans). */
  updated: path.join(s.dir, 'lists.updated'),
  lock: path.join(s.dir, 'update.lock'),
});

/** One-line sources for the family's suites: amd64, main only, signed by Debian's archive keys. */
export function renderSourcesList(family: SuiteFamily, keyring = ARCHIVE_KEYRING): string {
  return family.suites.map((s) => `deb [arch=amd64 signed-by=${keyring}] ${s.uri} ${s.suite} main\n`).join('');
}

/**
 * The whole apt configuration of one state directory. Dir::Etc::main and
 * ::parts point inside it too, so nothing of the host's apt configuration
 * (apt.conf.d, sources, preferences, trusted keys) is read.
 */
export function renderAptConf(dir: string, user: string): string {
  const etc = path.join(dir, 'etc');
  const q = (p: string): string => `"${p}"`;
  return [
    `Dir ${q('/')};`,
    `Dir::Etc ${q(`${etc}/`)};`,
    `Dir::Etc::main ${q(path.join(etc, 'apt.conf'))};`,
    `Dir::Etc::parts ${q(`${path.join(etc, 'apt.conf.d')}/`)};`,
    `Dir::Etc::sourcelist ${q(path.join(etc, 'sources.list'))};`,
    `Dir::Etc::sourceparts ${q(`${path.join(etc, 'sources.list.d')}/`)};`,
    `Dir::Etc::preferences ${q(path.join(etc, 'preferences'))};`,
    `Dir::Etc::preferencesparts ${q(`${path.join(etc, 'preferences.d')}/`)};`,
    `Dir::Etc::trusted ${q(path.join(etc, 'trusted.gpg'))};`,
    `Dir::Etc::trustedparts ${q(`${path.join(etc, 'trusted.gpg.d')}/`)};`,
    `Dir::State ${q(`${dir}/`)};`,
    `Dir::State::lists ${q(`${path.join(dir, 'lists')}/`)};`,
    `Dir::State::status ${q(path.join(dir, 'status'))};`,
    `Dir::Cache ${q(`${path.join(dir, 'cache')}/`)};`,
    // the binary cache speeds up every query; the source cache is never used
    `Dir::Cache::srcpkgcache "";`,
    `Dir::Log ${q(`${path.join(dir, 'log')}/`)};`,
    `APT::Architecture "amd64";`,
    `APT::Architectures { "amd64"; };`,
    `Acquire::Languages "none";`,
    // keep the lists compressed (lz4): ~20 MB instead of ~60 MB per suite
    `Acquire::GzipIndexes "true";`,
    // a suite that cannot be fetched is an error, not a warning over stale lists
    `APT::Update::Error-Mode "any";`,
    // download as the caller: the cache may be unreadable to apt's _apt user
    `APT::Sandbox::User ${q(user)};`,
    '',
  ].join('\n');
}

/** Environment for apt programs run against this state. */
export function aptEnv(s: AptState): Record<string, string> {
  return { APT_CONFIG: at(s).conf, LC_ALL: 'C' };
}

/** Writes the configuration and directories (idempotent). */
export async function writeAptState(s: AptState): Promise<void> {
  if (!(await pathExists(ARCHIVE_KEYRING))) throw new RebootlessError('ARCHIVE_KEYRING_MISSING', { path: ARCHIVE_KEYRING });
  const p = at(s);
  for (const d of [path.join(p.etc, 'apt.conf.d'), path.join(p.etc, 'sources.list.d'), path.join(p.etc, 'preferences.d'), path.join(p.etc, 'trusted.gpg.d'), path.join(p.lists, 'partial'), path.join(p.cache, 'archives', 'partial'), p.log]) {
    await fsp.mkdir(d, { recursive: true });
  }
  const want: [string, string][] = [
    [p.conf, renderAptConf(s.dir, os.userInfo().username)],
    [p.sources, renderSourcesList(s.family)],
    [p.status, ''],
  ];
  for (const [file, text] of want) {
    const now = await fsp.readFile(file, 'utf8').catch(() => undefined);
    if (now !== text) await writeFileAtomic(file, text);
  }
}

/** Milliseconds since the last successful `apt-get update`, undefined when never. */
export async function listsAgeMs(s: AptState, now = Date.now()): Promise<number | undefined> {
  const st = await fsp.stat(at(s).updated).catch(() => undefined);
  return st ? Math.max(0, now - st.mtimeMs) : undefined;
}

/** Identifies the lists' contents: changes whenever `apt-get update` changes them. */
export async function listsStateKey(s: AptState): Promise<string> {
  const p = at(s);
  const names = (await fsp.readdir(p.lists).catch(() => [] as string[])).filter((n) => n.startsWith('deb.') || n.includes('_dists_')).sort();
  const parts = await Promise.all(names.map((n) => fsp.stat(path.join(p.lists, n)).then((st) => `${n}:${st.mtimeMs}:${st.size}`, () => `${n}:-`)));
  const sources = await fsp.readFile(p.sources, 'utf8').catch(() => '');
  return `${sources}|${parts.join('|')}`;
}

export interface RefreshOptions {
  progress: Progress;
  signal?: AbortSignal;
  /** Update even when the lists are fresh (a package was not found). */
  force?: boolean;
  maxAgeMs?: number;
}

const NETWORK_FAILURE = /(Temporary failure resolving|Could not resolve|Could not connect|Connection failed|Connection timed out|Network is unreachable|Unable to connect|Failed to fetch)/i;

/** Sums the `[9679 kB]` sizes of `apt-get update`'s `Get:` lines. */
export function parseFetchedBytes(line: string): number {
  const m = /^Get:\d+ .*\[([\d.]+) (B|kB|MB|GB)\]\s*$/.exec(line);
  if (!m) return 0;
  const unit = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B' | 'kB' | 'MB' | 'GB'];
  return Math.round(Number(m[1]) * unit);
}

/**
 * Makes sure the family's lists exist and are younger than maxAgeMs
 * (`apt-get update` otherwise). Returns true when it updated them. When
 * lists exist and only their age asked for an update that the network
 * refused, the old lists are kept (and said so).
 */
export async function refreshLists(s: AptState, options: RefreshOptions): Promise<boolean> {
  const maxAge = options.maxAgeMs ?? LISTS_MAX_AGE_MS;
  const fresh = async (): Promise<boolean> => {
    const age = await listsAgeMs(s);
    return age !== undefined && age < maxAge;
  };
  await writeAptState(s);
  if (!options.force && (await fresh())) return false;
  const p = at(s);
  const release = await acquireLock(p.lock, {
    timeoutMs: 10 * 60_000,
    onWait: (h) => options.progress.log(`waiting for another update of the ${s.family.name} package lists (pid ${h.pid})`),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const startedAt = Date.now();
  try {
    // another process may have updated them while we waited
    const st = await fsp.stat(p.updated).catch(() => undefined);
    if (st && (options.force ? st.mtimeMs >= startedAt - 60_000 : await fresh())) return false;
    const hadLists = st !== undefined;
    const stage = `apt lists ${s.family.name}`;
    options.progress.stage(stage, s.family.suites.map((x) => x.suite).join(' '));
    let fetched = 0;
    try {
      await runCommand('apt-get', ['update', '-q'], {
        env: aptEnv(s),
        ...(options.signal ? { signal: options.signal } : {}),
        onLine: (line) => {
          const n = parseFetchedBytes(line);
          if (n > 0) options.progress.bytes((fetched += n));
        },
      });
    } catch (e) {
      const failure = updateFailure(e, s);
      if (isRebootlessError(failure) && failure.code === 'REGISTRY_UNREACHABLE' && hadLists && !options.force) {
        options.progress.log(`kept the ${s.family.name} package lists from ${st.mtime.toISOString()}: ${failure.message}`);
        options.progress.stageDone(stage, Date.now() - startedAt);
        return false;
      }
      throw failure;
    }
    await fsp.writeFile(p.updated, `${new Date().toISOString()}\n`);
    options.progress.stageDone(stage, Date.now() - startedAt);
    return true;
  } finally {
    await release();
  }
}

function updateFailure(e: unknown, s: AptState): unknown {
  if (!isRebootlessError(e) || e.code !== 'COMMAND_FAILED') return e;
  const text = (e.data as { stderrTail: string }).stderrTail;
  const lines = text.split('\n').map((l) => l.trim());
  const net = lines.find((l) => NETWORK_FAILURE.test(l) && /^(E|W|Err):/.test(l)) ?? lines.find((l) => NETWORK_FAILURE.test(l));
  if (net && !/NO_PUBKEY|not signed|signature/i.test(text)) return new RebootlessError('REGISTRY_UNREACHABLE', { detail: net.replace(/^(E|W):\s*/, '') });
  const first = lines.find((l) => l.startsWith('E:')) ?? lines.find(Boolean) ?? 'apt-get update failed';
  return new RebootlessError('APT_UPDATE_FAILED', { family: s.family.name, suites: s.family.suites.map((x) => x.suite), detail: first.replace(/^E:\s*/, '') });
}
