import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { directorySize, pathExists, removePath } from '../util/fs.js';
import { acquireLock } from '../util/lock.js';
import { runPipeline } from '../util/pipeline.js';
import { runCommand } from '../util/process.js';
import type { Progress } from '../util/progress.js';
import { runStages, type Stage, type StageRecord } from '../util/stages.js';
import { downloadPackages, showPackage, type PackageInfo } from './apt.js';
import type { AptState } from './apt-state.js';
import { releaseDir } from './cache.js';
import { configDifferences, readConfigValue } from './config.js';
import { kbuildVariables } from './kbuild-vars.js';
import { toolchainFacts } from './build-root.js';
import { chooseToolchain, runInToolchain, type Toolchain } from './toolchain.js';
import { isOutdatedWorkspace, readManifest, writeManifest, type KernelWorkspace } from './manifest.js';
import { findRelease } from './fetchable.js';
import { sourceExcludes } from './source-subset.js';
import { recordTree, TREE_MANIFEST_FILE, writeTreeManifest } from './tree-manifest.js';
import type { ReleaseCandidate } from './release.js';

// `kernel fetch`: download a Debian kernel release's packages, unpack what
// rebootless needs, prepare the source tree. Staged (see util/stages.ts) and
// locked per release.

export interface FetchOptions {
  cacheRoot: string;
  requested?: string;
  progress: Progress;
  signal?: AbortSignal;
  lockTimeoutMs?: number;
  jobs?: number;
}

export interface FetchResult {
  workspace: KernelWorkspace;
  stages: StageRecord[];
  cached: boolean;
}

/** Where each piece lives inside a release directory. */
export function layout(dir: string, release: string, series: string) {
  const headersRoot = path.join(dir, 'headers');
  const headersDir = path.join(headersRoot, 'usr', 'src', `linux-headers-${release}`);
  return {
    debs: path.join(dir, 'debs'),
    vmlinuz: path.join(dir, 'image', 'boot', `vmlinuz-${release}`),
    modulesDir: path.join(dir, 'image', 'lib', 'modules', release),
    headersRoot,
    config: path.join(headersDir, '.config'),
    moduleSymvers: path.join(headersDir, 'Module.symvers'),
    vmlinux: path.join(dir, 'debug', 'usr', 'lib', 'debug', 'boot', `vmlinux-${release}`),
    systemMap: path.join(dir, 'debug', 'usr', 'lib', 'debug', 'boot', `System.map-${release}`),
    sourceTree: path.join(dir, 'source', `linux-source-${series}`),
  };
}

export function hostRelease(): string {
  return os.release();
}

export async function fetchRelease(options: FetchOptions): Promise<FetchResult> {
  const { cacheRoot, progress, signal } = options;
  // A release named and already complete needs no apt query at all.
  if (options.requested) {
    const ws = await readManifest(releaseDir(cacheRoot, options.requested)).catch(() => undefined);
    if (ws) return { workspace: ws, stages: [], cached: true };
  }
  // through rebootless's own apt state of the release's suite family (apt-state.ts)
  const { candidate: cand, apt } = await findRelease({
    cacheRoot,
    ...(options.requested ? { requested: options.requested } : {}),
    hostRelease: hostRelease(),
    progress,
    ...(signal ? { signal } : {}),
  });
  const dir = releaseDir(cacheRoot, cand.release);
  const existing = await readManifest(dir).catch(() => undefined);
  if (existing && existing.debianVersion === cand.debianVersion) return { workspace: existing, stages: [], cached: true };

  await fsp.mkdir(path.dirname(dir), { recursive: true });
  const createdDir = !(await pathExists(dir));
  const release = await acquireLock(`${dir}.lock`, {
    timeoutMs: options.lockTimeoutMs ?? 30 * 60_000,
    onWait: (h) => progress.log(`waiting for another fetch of ${cand.release} (pid ${h.pid}) to finish`),
    ...(signal ? { signal } : {}),
  });
  try {
    if (await isOutdatedWorkspace(dir)) {
      progress.log(`${cand.release}: cached by an older rebootless (prepared differently); fetching it again`);
      await removePath(dir);
    }
    const done = await readManifest(dir).catch(() => undefined);
    if (done && done.debianVersion === cand.debianVersion) return { workspace: done, stages: [], cached: true };
    await fsp.mkdir(dir, { recursive: true });
    const pkgs = await packageSet(cand, apt);
    const stages = fetchStages(dir, cand, pkgs, options.jobs ?? os.cpus().length, cacheRoot);
    let records: StageRecord[];
    try {
      records = await runStages(dir, stages, { progress, ...(signal ? { signal } : {}) });
    } catch (e) {
      // The first fetch failing before anything completed leaves no trace.
      if (createdDir && !(await anyStageDone(dir))) await removePath(dir);
      throw e;
    }
    const ws = await readManifest(dir);
    if (!ws) throw new RebootlessError('MANIFEST_INVALID', { path: dir, detail: 'manifest missing after the last stage' });
    return { workspace: ws, stages: records, cached: false };
  } finally {
    await release();
  }
}

async function anyStageDone(dir: string): Promise<boolean> {
  const entries = await fsp.readdir(path.join(dir, '.stages')).catch(() => [] as string[]);
  return entries.some((e) => e.endsWith('.done'));
}

/**
 * The release's packages at the image's exact version: image, flavour
 * headers (its .config and Module.symvers), -dbg, source. Not the headers'
 * `linux-headers-*-common` and `linux-kbuild-*` dependencies: modules are
 * linked against the prepared source tree, and linux-kbuild-N.M keeps one
 * name across versions, so the archive only serves the newest.
 */
export async function packageSet(cand: ReleaseCandidate, apt: AptState): Promise<PackageInfo[]> {
  const v = cand.debianVersion;
  const { image, headers, dbg, source } = cand.packages;
  return Promise.all([image, headers, dbg, source].map((name) => showPackage(apt, name, v)));
}

function debPath(debs: string, p: PackageInfo): string {
  return path.join(debs, path.basename(p.filename) || `${p.name}_${p.version}.deb`);
}

function fetchStages(dir: string, cand: ReleaseCandidate, pkgs: PackageInfo[], jobs: number, cacheRoot: string): Stage[] {
  const L = layout(dir, cand.release, cand.series);
  const byName = (n: string): PackageInfo => pkgs.find((p) => p.name === n) as PackageInfo;
  const image = byName(cand.packages.image);
  const dbg = byName(cand.packages.dbg);
  const source = byName(cand.packages.source);
  const headers = byName(cand.packages.headers);
  const under = (p: string): string => path.relative(L.headersRoot, p);
  const deb = (p: PackageInfo): string => debPath(L.debs, p);
  const total = pkgs.reduce((a, p) => a + p.size, 0);

  const extract = (p: PackageInfo, out: string, ctx: { progress: Progress; signal: AbortSignal | undefined }, members: string[] = []) =>
    runPipeline(
      [
        { file: 'dpkg-deb', args: ['--fsys-tarfile', deb(p)], sigpipeOk: members.length > 0 },
        { file: 'tar', args: ['-x', '-C', out, ...(members.length ? ['--occurrence=1', ...members] : [])] },
      ],
      {
        // With a member list only part of the archive is read: the total is unknown.
        onBytes: (n) => ctx.progress.bytes(n, members.length ? undefined : p.installedSize),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
    );

  // the host when it has the release's exact compiler, else a build root of the release's suite (made once, shared)
  let toolchain: Promise<Toolchain> | undefined;
  const toolchainOf = (ctx: { progress: Progress; signal: AbortSignal | undefined }): Promise<Toolchain> =>
    (toolchain ??= readConfigValue(L.config, 'CONFIG_CC_VERSION_TEXT').then((compiler) =>
      chooseToolchain(
        { compiler: compiler ?? 'unknown', suite: cand.family, binds: [dir, os.tmpdir()] },
        toolchainFacts({ cacheRoot, progress: ctx.progress, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
      ),
    ));

  return [
    {
      name: 'download',
      output: 'debs',
      async run(ctx) {
        const timer = setInterval(() => {
          void directorySize(ctx.out).then((n) => ctx.progress.bytes(n, total));
        }, 300);
        try {
          await downloadPackages(ctx.out, pkgs, ctx.signal);
        } finally {
          clearInterval(timer);
        }
        // apt-get names files after the archive's Filename; check each arrived.
        for (const p of pkgs) {
          const f = path.join(ctx.out, path.basename(deb(p)));
          if (!(await pathExists(f))) throw new RebootlessError('PACKAGE_CONTENT_MISSING', { packageName: p.name, path: path.basename(f) });
        }
      },
    },
    {
      name: 'image',
      output: 'image',
      async run(ctx) {
        await extract(image, ctx.out, ctx, []);
        // trixie's packages ship modules under /usr/lib/modules (merged /usr): one layout for every release
        if ((await pathExists(path.join(ctx.out, 'usr', 'lib', 'modules'))) && !(await pathExists(path.join(ctx.out, 'lib')))) {
          await fsp.symlink(path.join('usr', 'lib'), path.join(ctx.out, 'lib'));
        }
        // Debian's package leaves modules.dep to depmod at install time.
        await runCommand('depmod', ['-b', ctx.out, cand.release], { ...(ctx.signal ? { signal: ctx.signal } : {}) });
      },
    },
    {
      name: 'headers',
      output: 'headers',
      // the flavour's .config and Module.symvers (with the exports' CRCs); nothing else of the headers is used
      run: (ctx) => extract(headers, ctx.out, ctx, [`./${under(L.config)}`, `./${under(L.moduleSymvers)}`]),
    },
    {
      name: 'debug',
      output: 'debug',
      run: (ctx) =>
        extract(dbg, ctx.out, ctx, [
          `./usr/lib/debug/boot/vmlinux-${cand.release}`,
          `./usr/lib/debug/boot/System.map-${cand.release}`,
        ]),
    },
    {
      name: 'source',
      output: 'source',
      run: (ctx) =>
        runPipeline(
          [
            { file: 'dpkg-deb', args: ['--fsys-tarfile', deb(source)], sigpipeOk: true },
            { file: 'tar', args: ['-x', '-O', '--occurrence=1', `./usr/src/linux-source-${cand.series}.tar.xz`], sigpipeOk: false },
            // the tarball is xz in many blocks: decompressed on every processor (xz ≥ 5.4; older ones use one)
            // without the files an x86 build never reads (kernel/source-subset.ts): a third fewer to write
            { file: 'tar', args: ['-x', '-I', 'xz -T0', '-C', ctx.out, '--anchored', ...sourceExcludes(path.basename(L.sourceTree)).map((p) => `--exclude=${p}`)] },
          ],
          { onBytes: (n) => ctx.progress.bytes(n, source.installedSize), ...(ctx.signal ? { signal: ctx.signal } : {}) },
        ),
    },
    {
      name: 'prepare',
      async run(ctx) {
        const cc = (await readConfigValue(L.config, 'CONFIG_CC_VERSION_TEXT'))?.split(' ')[0] ?? 'gcc';
        const tc = await toolchainOf(ctx);
        const make = (args: string[]) =>
          runInToolchain(tc, 'make', ['-C', L.sourceTree, ...kbuildVariables({ cc, release: cand.release }), ...args], { cwd: L.sourceTree, ...(ctx.signal ? { signal: ctx.signal } : {}) });
        if (ctx.resumed) await make(['mrproper']);
        await fsp.copyFile(L.config, path.join(L.sourceTree, '.config'));
        // Kconfig probes the host's tools (pahole, rustc); the release's builder had no rustc
        const noRust = ((await readConfigValue(L.config, 'CONFIG_RUSTC_VERSION')) ?? '0') === '0' ? ['RUSTC=false'] : [];
        // Kconfig runs once (about 10 s of compiler probes): syncconfig rewrites .config as olddefconfig
        // would and writes include/config/auto.conf, so modules_prepare finds it current
        await make([...noRust, 'syncconfig']);
        const changed = configDifferences(await fsp.readFile(L.config, 'utf8'), await fsp.readFile(path.join(L.sourceTree, '.config'), 'utf8'));
        // a different .config compiles different code (and struct layouts): never build with one
        if (changed.length) throw new RebootlessError('PREPARE_CONFIG_MISMATCH', { release: cand.release, options: changed });
        // prepare plus what an external module build needs: host programs (modpost, objtool) and the module
        // linker script. Not resolve_btfids (10 s here): kbuild runs it on a module only beside a vmlinux in the
        // tree, which a prepared source tree never has (a tree given to `kernel add` was built, and has both)
        await make([`-j${jobs}`, '-o', 'tools/bpf/resolve_btfids', 'modules_prepare']);
        await fsp.copyFile(L.moduleSymvers, path.join(L.sourceTree, 'Module.symvers'));
      },
    },
    {
      // the prepared tree's content, for `kernel verify` to prove builds never write it
      name: 'tree-manifest',
      async run(ctx) {
        const m = await recordTree(L.sourceTree, { onBytes: (n) => ctx.progress.bytes(n), ...(ctx.signal ? { signal: ctx.signal } : {}) });
        await writeTreeManifest(path.join(dir, TREE_MANIFEST_FILE), m);
      },
    },
    {
      name: 'manifest',
      async run(ctx) {
        const tc = await toolchainOf(ctx);
        const compiler = (await readConfigValue(L.config, 'CONFIG_CC_VERSION_TEXT')) ?? 'unknown';
        for (const [what, p] of [
          ['vmlinuz', L.vmlinuz],
          ['vmlinux', L.vmlinux],
          ['System.map', L.systemMap],
          ['Module.symvers', L.moduleSymvers],
          ['modules', L.modulesDir],
        ] as const) {
          if (!(await pathExists(p))) throw new RebootlessError('PACKAGE_CONTENT_MISSING', { packageName: what, path: p });
        }
        await writeManifest(
          {
            release: cand.release,
            debianVersion: cand.debianVersion,
            flavor: cand.flavor,
            suite: cand.family,
            ...(tc.kind === 'root' ? { buildRoot: tc.root } : {}),
            vmlinuz: L.vmlinuz,
            vmlinux: L.vmlinux,
            systemMap: L.systemMap,
            config: L.config,
            moduleSymvers: L.moduleSymvers,
            sourceTree: L.sourceTree,
            modulesDir: L.modulesDir,
            compiler,
            cc: compiler.split(' ')[0] ?? 'gcc',
            packages: pkgs.map((p) => ({ name: p.name, version: p.version })),
            fetchedAt: new Date().toISOString(),
          },
          dir,
        );
        // The packages are unpacked; keep the cache small.
        await removePath(L.debs);
      },
    },
  ];
}
