import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { pathExists, writeFileAtomic } from '../util/fs.js';
import { commandExists, runCommand, tail } from '../util/process.js';

// An apt repository of patch packages, kept by reprepro and signed with the
// user's own OpenPGP key: `rebootless repo add REPO DEB... --sign-key KEY`.
// The repository folder is what a web server serves; its public key is
// exported beside it for the hosts' `signed-by=`.

export const REPO_KEYRING = 'rebootless-archive.gpg';
export const HOST_KEYRING = '/usr/share/keyrings/rebootless-archive.gpg';

export interface RepoAddOptions {
  repo: string;
  debs: string[];
  keyId: string;
  suite: string;
  gnupgHome?: string;
}

export interface RepoReport {
  repo: string;
  suite: string;
  added: { file: string; package: string; version: string }[];
  keyring: string;
  /** The sources line for a host, with URL standing for where the folder is served. */
  sourcesLine: string;
}

/** One reprepro distribution stanza (pure). */
export function renderDistribution(suite: string, keyId: string): string {
  return [
    'Origin: rebootless',
    'Label: rebootless live patches',
    `Codename: ${suite}`,
    'Architectures: amd64',
    'Components: main',
    'Description: live patches made by rebootless',
    `SignWith: ${keyId}`,
    '',
  ].join('\n');
}

/** The suites a reprepro distributions file defines (pure). */
export function distributionSuites(text: string): string[] {
  return [...text.matchAll(/^Codename:\s*(\S+)/gm)].map((m) => m[1] as string);
}

export const sourcesLine = (suite: string, url = 'URL'): string => `deb [signed-by=${HOST_KEYRING}] ${url} ${suite} main`;

const outputOf = (e: unknown): string => (e instanceof Error && 'stderr' in e ? `${String((e as { stdout?: unknown }).stdout ?? '')}\n${String((e as { stderr: unknown }).stderr)}` : String(e));

async function debField(deb: string, field: string): Promise<string> {
  return (await runCommand('dpkg-deb', ['-f', deb, field])).stdout.trim();
}

export async function repoAdd(o: RepoAddOptions): Promise<RepoReport> {
  for (const [tool, pkg] of [
    ['reprepro', 'reprepro'],
    ['gpg', 'gnupg'],
    ['dpkg-deb', 'dpkg'],
  ] as const) {
    if (!(await commandExists(tool))) throw new RebootlessError('TOOL_MISSING', { tool, packageName: pkg });
  }
  if (!/^[a-z][a-z0-9.-]*$/.test(o.suite)) throw new RebootlessError('USAGE', { detail: `--suite expects a suite name such as bookworm, got '${o.suite}'` });
  const env = { ...process.env, ...(o.gnupgHome ? { GNUPGHOME: path.resolve(o.gnupgHome) } : {}) };
  try {
    await runCommand('gpg', ['--batch', '--list-secret-keys', o.keyId], { env });
  } catch {
    throw new RebootlessError('REPO_KEY_UNKNOWN', { keyId: o.keyId, gnupgHome: env.GNUPGHOME ?? '~/.gnupg' });
  }
  const debs: { file: string; package: string; version: string }[] = [];
  for (const d of o.debs) {
    const file = path.resolve(d);
    const pkg = await debField(file, 'Package').catch(() => '');
    if (!pkg) throw new RebootlessError('REPO_NOT_A_DEB', { file });
    debs.push({ file, package: pkg, version: await debField(file, 'Version') });
  }
  const repo = path.resolve(o.repo);
  const conf = path.join(repo, 'conf', 'distributions');
  const existing = (await pathExists(conf)) ? await fsp.readFile(conf, 'utf8') : undefined;
  if (existing === undefined && (await pathExists(repo)) && (await fsp.readdir(repo)).length > 0) {
    throw new RebootlessError('REPO_NOT_REPREPRO', { repo });
  }
  if (!existing?.length || !distributionSuites(existing).includes(o.suite)) {
    await fsp.mkdir(path.dirname(conf), { recursive: true });
    await writeFileAtomic(conf, `${existing ? `${existing.trimEnd()}\n\n` : ''}${renderDistribution(o.suite, o.keyId)}`);
  }
  for (const d of debs) {
    try {
      await runCommand('reprepro', ['-b', repo, '--silent', 'includedeb', o.suite, d.file], { env });
    } catch (e) {
      throw new RebootlessError('REPO_FAILED', { repo, step: `reprepro includedeb ${o.suite} ${path.basename(d.file)}`, outputTail: tail(outputOf(e), 12) }, { cause: e });
    }
  }
  const keyring = path.join(repo, REPO_KEYRING);
  const tmp = `${keyring}.tmp-${process.pid}`;
  await fsp.rm(tmp, { force: true });
  await runCommand('gpg', ['--batch', '--yes', '--output', tmp, '--export', o.keyId], { env });
  await fsp.rename(tmp, keyring);
  return { repo, suite: o.suite, added: debs, keyring, sourcesLine: sourcesLine(o.suite) };
}
