import type { Command } from 'commander';
import { addKernel } from '../../kernel/add.js';
import { RebootlessError } from '../../errors/index.js';
import { cacheRoot } from '../../kernel/cache.js';
import { fetchRelease, hostRelease, type FetchResult } from '../../kernel/fetch.js';
import { listFetchableReleases, type FetchableRelease } from '../../kernel/fetchable.js';
import type { KernelWorkspace } from '../../kernel/manifest.js';
import { listWorkspaces, loadWorkspace } from '../../kernel/workspace.js';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson, table } from '../render.js';

/** The stable JSON shape of `kernel show`. */
/** Where its compiler runs: `host`, or `build root (trixie)`. */
const toolchainOf = (ws: KernelWorkspace): string => (ws.buildRoot ? `build root (${ws.suite ?? '?'})` : 'host');

export function workspaceJson(ws: KernelWorkspace) {
  return {
    release: ws.release,
    debianVersion: ws.debianVersion,
    flavor: ws.flavor,
    ...(ws.suite ? { suite: ws.suite } : {}),
    vmlinuz: ws.vmlinuz,
    vmlinux: ws.vmlinux,
    systemMap: ws.systemMap,
    config: ws.config,
    moduleSymvers: ws.moduleSymvers,
    sourceTree: ws.sourceTree,
    modulesDir: ws.modulesDir,
    compiler: ws.compiler,
    cc: ws.cc,
    toolchain: toolchainOf(ws),
    ...(ws.buildRoot ? { buildRoot: ws.buildRoot } : {}),
    packages: ws.packages,
    fetchedAt: ws.fetchedAt,
  };
}

export function renderWorkspace(ws: KernelWorkspace): string {
  const j = workspaceJson(ws);
  return table(
    Object.entries(j)
      .filter(([k]) => k !== 'packages')
      .map(([k, v]) => [`${k}:`, String(v)]),
  ) + `packages: ${ws.packages.map((p) => `${p.name}=${p.version}`).join(' ')}\n`;
}

/** `kernel fetch --list`: one block per suite family, a row per release. */
export function renderFetchable(rows: FetchableRelease[]): string {
  if (rows.length === 0) return 'no Debian kernel release can be fetched right now\n';
  const out: string[][] = [['FAMILY', 'RELEASE', 'DEBIAN VERSION', 'SUITE', '']];
  for (const r of rows) {
    const marks = [r.host ? 'host' : '', r.cached ? 'cached' : ''].filter(Boolean).join(', ');
    out.push([r.family, r.release, r.debianVersion, r.suite, marks]);
  }
  return table(out);
}

/** The stable JSON shape of one `kernel fetch --list --json` entry. */
export function fetchableJson(r: FetchableRelease) {
  return { release: r.release, family: r.family, suite: r.suite, flavor: r.flavor, debianVersion: r.debianVersion, series: r.series, host: r.host, cached: r.cached };
}

/** Fetches with progress on stderr; shared by `kernel fetch` and `demo`. */
export async function fetchWithProgress(ctx: CliContext, requested: string | undefined, json: boolean): Promise<FetchResult> {
  const progress = ctx.progress(json);
  try {
    return await fetchRelease({ cacheRoot: cacheRoot(), ...(requested ? { requested } : {}), progress, signal: ctx.signal });
  } finally {
    progress.close();
  }
}

export function registerKernel(program: Command, ctx: CliContext, setExit: SetExit): void {
  const kernel = program.command('kernel').description('fetch and inspect cached Debian kernel workspaces');

  kernel
    .command('fetch')
    .description(
      "download, unpack and prepare a Debian kernel release (default: the host's release if Debian has it, else the newest cloud-amd64 release of the series Debian's metapackage points at); " +
        'with --list, show the releases that can be fetched',
    )
    .argument('[release]', 'kernel release, e.g. 6.1.0-57-cloud-amd64, 6.12.95+deb12-amd64 (bookworm-backports), 6.12.117+deb13-rt-amd64 (trixie)')
    .option('--list', 'list the releases that can be fetched now (image, headers, -dbg and linux-source at one version), per suite family and flavour, marking the host\'s and the cached ones; fetches nothing')
    .option('--json', 'print the workspace (with --list: the releases) as JSON')
    .addHelpText('after', `
Releases come from Debian's archive (deb.debian.org) through rebootless's own
apt state per suite family, under the cache (CACHE/apt/FAMILY); the host's apt
configuration is neither read nor changed. Families and the releases they serve:
  bookworm            bookworm, -updates, -security: 6.1.0-N-*, 6.12.N+deb12-*
  bookworm-backports  bookworm-backports: 6.12.N+deb12-*
  trixie              trixie, -updates, -security: 6.12.N+deb13-*
Flavours: cloud-amd64, amd64, rt-amd64. A family's package lists are updated
when older than 12 hours, and again when a release is not found in them.`)
    .action(async (release: string | undefined, opts: { json?: boolean; list?: boolean }) => {
      const json = opts.json === true;
      if (opts.list) {
        if (release) throw new RebootlessError('USAGE', { detail: `--list takes no release (got '${release}')` });
        const progress = ctx.progress(json);
        let rows: FetchableRelease[];
        try {
          rows = await listFetchableReleases({ cacheRoot: cacheRoot(), hostRelease: hostRelease(), progress, signal: ctx.signal });
        } finally {
          progress.close();
        }
        if (json) printJson(ctx.io.stdout, rows.map(fetchableJson));
        else ctx.io.stdout.write(renderFetchable(rows));
        setExit(0);
        return;
      }
      const t0 = Date.now();
      const r = await fetchWithProgress(ctx, release, json);
      if (json) printJson(ctx.io.stdout, { ...workspaceJson(r.workspace), cached: r.cached, stages: r.stages });
      else {
        ctx.io.stdout.write(
          `${r.workspace.release} (${r.workspace.debianVersion}) ${r.cached ? 'already fetched' : 'fetched and prepared'} in ${formatDuration(Date.now() - t0)}\n` +
            `  source tree: ${r.workspace.sourceTree}\n  details: rebootless kernel show ${r.workspace.release}\n`,
        );
      }
      setExit(0);
    });

  kernel
    .command('list')
    .description('list the kernel releases in the cache')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const root = cacheRoot();
      const entries = await listWorkspaces(root);
      if (opts.json) {
        printJson(ctx.io.stdout, {
          cacheRoot: root,
          releases: entries.map((e) => ({
            release: e.release,
            state: e.state,
            dir: e.dir,
            ...(e.workspace
              ? { debianVersion: e.workspace.debianVersion, flavor: e.workspace.flavor, compiler: e.workspace.compiler, toolchain: toolchainOf(e.workspace), fetchedAt: e.workspace.fetchedAt }
              : {}),
            ...(e.workspace?.suite ? { suite: e.workspace.suite } : {}),
            ...(e.problem ? { problem: e.problem } : {}),
          })),
        });
      } else if (entries.length === 0) {
        ctx.io.stdout.write(`no kernel releases in ${root}\n  fetch one with: rebootless kernel fetch\n`);
      } else {
        const rows = [['RELEASE', 'STATE', 'SUITE', 'FLAVOUR', 'DEBIAN VERSION', 'COMPILER', 'TOOLCHAIN', 'FETCHED']];
        for (const e of entries) {
          const w = e.workspace;
          rows.push([e.release, e.state, w?.suite ?? '-', w?.flavor ?? '-', w?.debianVersion ?? '-', w?.cc ?? '-', w ? toolchainOf(w) : '-', w?.fetchedAt ?? (e.problem ?? '-')]);
        }
        ctx.io.stdout.write(table(rows));
      }
      setExit(0);
    });

  kernel
    .command('add')
    .description('register a kernel built elsewhere (an in-tree kbuild build: mainline, another distribution, a custom config) under NAME, for build and try with --kernel NAME')
    .argument('<name>', 'the name to use with --kernel')
    .requiredOption('--build-dir <dir>', 'the built tree: vmlinux, .config, Module.symvers, System.map (never written: builds use a snapshot)')
    .option('--source <dir>', 'the source tree (must be the build directory: out-of-tree O= builds are not supported yet)')
    .option('--vmlinuz <file>', 'the bootable image try boots (default: the build\'s arch/x86/boot/bzImage)')
    .option('--modules <dir>', 'its lib/modules/RELEASE directory (with modules.dep), for patches to modules and the VM')
    .option('--json', 'print the registered workspace as JSON')
    .action(async (name: string, opts: { buildDir: string; source?: string; vmlinuz?: string; modules?: string; json?: boolean }) => {
      const ws = await addKernel({
        cacheRoot: cacheRoot(),
        name,
        buildDir: opts.buildDir,
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.vmlinuz ? { vmlinuz: opts.vmlinuz } : {}),
        ...(opts.modules ? { modules: opts.modules } : {}),
      });
      if (opts.json) printJson(ctx.io.stdout, workspaceJson(ws));
      else ctx.io.stdout.write(`${name}: kernel ${ws.release} (${ws.compiler}) registered\n  build with: rebootless build --kernel ${name} PATCH\n`);
      setExit(0);
    });

  kernel
    .command('show')
    .description('show the paths and facts of a fetched release')
    .argument('<release>', 'kernel release')
    .option('--json', 'print as JSON')
    .action(async (release: string, opts: { json?: boolean }) => {
      const ws = await loadWorkspace(cacheRoot(), release);
      if (opts.json) printJson(ctx.io.stdout, workspaceJson(ws));
      else ctx.io.stdout.write(renderWorkspace(ws));
      setExit(0);
    });
}
