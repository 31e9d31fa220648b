import { RebootlessError } from '../../errors/index.js';
import { repoAdd } from '../../fleet/apt-repo.js';
import { packagePatch, packageSelf } from '../../fleet/package.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';

export interface PackageFlags {
  self?: boolean;
  version?: string;
  out: string;
  json?: boolean;
}

export interface RepoAddFlags {
  signKey: string;
  suite: string;
  gnupgHome?: string;
  json?: boolean;
}

/** `rebootless package MODULE.ko | --self`. */
export async function packageCommand(ctx: CliContext, setExit: SetExit, ko: string | undefined, f: PackageFlags): Promise<void> {
  if (f.self && ko) throw new RebootlessError('USAGE', { detail: 'give either a module or --self, not both' });
  if (!f.self && !ko) throw new RebootlessError('USAGE', { detail: 'give the livepatch module to package (or --self for rebootless itself)' });
  const version = f.version === undefined ? {} : { version: f.version };
  const r = ko ? await packagePatch({ ko, outDir: f.out, ...version }) : await packageSelf({ outDir: f.out, ...version });
  if (f.json) printJson(ctx.io.stdout, r);
  else {
    ctx.io.stdout.write(`${r.file}\n`);
    ctx.io.stderr.write(`${r.package} ${r.version} (${r.architecture}), depends on ${r.depends.join(', ')}${r.patch ? `: live patch ${r.patch.name} for ${r.patch.release}` : ''}\n`);
  }
  setExit(0);
}

/** `rebootless repo add REPO DEB...`. */
export async function repoAddCommand(ctx: CliContext, setExit: SetExit, repo: string, debs: string[], f: RepoAddFlags): Promise<void> {
  const r = await repoAdd({ repo, debs, keyId: f.signKey, suite: f.suite, ...(f.gnupgHome ? { gnupgHome: f.gnupgHome } : {}) });
  if (f.json) printJson(ctx.io.stdout, r);
  else {
    for (const d of r.added) ctx.io.stdout.write(`${d.package} ${d.version}: added to ${r.repo} (${r.suite})\n`);
    ctx.io.stdout.write(
      `serve ${r.repo} over HTTP; on each host:\n` +
        `  copy ${r.keyring} to /usr/share/keyrings/rebootless-archive.gpg\n` +
        `  echo '${r.sourcesLine}' > /etc/apt/sources.list.d/rebootless.list   (URL: where ${r.repo} is served)\n`,
    );
  }
  setExit(0);
}
