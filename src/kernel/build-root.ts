import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RebootlessError, isRebootlessError } from '../errors/index.js';
import { directorySize, isNoSpaceError, pathExists, writeFileAtomic } from '../util/fs.js';
import { acquireLock } from '../util/lock.js';
import { commandExists, runCommand } from '../util/process.js';
import type { Progress } from '../util/progress.js';
import { runStages, type Stage } from '../util/stages.js';
import { ARCHIVE_KEYRING, renderSourcesList } from './apt-state.js';
import { gccComment, parseGccCompiler, type GccCompiler } from './compiler.js';
import { findFamilyByName, type SuiteFamily } from './suites.js';
import { probeCompilerComment, runInToolchain, type Toolchain, type ToolchainFacts } from './toolchain.js';

// A build root: a minimal Debian system of the suite that built a kernel,
// with that kernel's gcc at its exact Debian version (the version in
// `GCC: (Debian 14.2.0-19) 14.2.0` is the gcc-14 package's) and what kbuild
// needs to prepare a tree, compile objects and link modules. Made once by
// mmdebstrap, cached and reused:
//
//   <cache>/roots/<codename>/<gcc-N>_<version>/   e.g. roots/trixie/gcc-14_14.2.0-19/
//     root/              the system (a staged output: made as root.partial-PID, renamed when complete)
//     build-root.json    what is inside, written last: its presence means the root is complete
//   <cache>/roots/<codename>/<gcc-N>_<version>.lock
//
// Commands run in it through toolchain.ts (toolchainCommand, runInToolchain).

/** What kbuild needs besides the kernel's compiler (Debian package names, the same in bookworm and trixie). */
export const ROOT_PACKAGES: readonly string[] = [
  'gcc', // HOSTCC, for kbuild's host programs (fixdep, modpost, objtool)
  'libc6-dev', // gcc-N only recommends it, and mmdebstrap installs no recommends
  'make',
  'flex',
  'bison',
  'bc',
  'libelf-dev', // objtool, resolve_btfids
  'libssl-dev', // sign-file, certs
  'dwarves', // pahole: Kconfig records its version; without it olddefconfig turns the BTF options off
  'python3', // 6.12's modules_prepare builds resolve_btfids, whose libbpf runs a Python script
];

export const BUILD_ROOT_MANIFEST = 'build-root.json';
const MANIFEST_SCHEMA = 1;

export interface BuildRootManifest {
  schema: typeof MANIFEST_SCHEMA;
  /** The Debian release the root is of, e.g. `trixie`. */
  codename: string;
  /** `gcc-14` */
  cc: string;
  /** First line of `cc --version` in the root: `gcc-14 (Debian 14.2.0-19) 14.2.0`. */
  ccVersion: string;
  /** What the compiler writes into `.comment`: `GCC: (Debian 14.2.0-19) 14.2.0`. */
  comment: string;
  /** What mmdebstrap was asked to include. */
  packages: string[];
  sources: string[];
  bytes: number;
  seconds: number;
  createdAt: string;
}

export interface BuildRoot {
  /** `<cache>/roots/<codename>/<gcc-N>_<version>` */
  dir: string;
  /** The system to chroot into. */
  root: string;
  manifest: BuildRootManifest;
  /** False when an existing root was reused. */
  created: boolean;
}

export interface BuildRootOptions {
  cacheRoot: string;
  /** The kernel's suite family (manifest `suite`: `trixie`, `bookworm-backports`); the root is of its codename. */
  suite: string;
  /** The kernel's compiler, either spelling (compiler.ts); a Debian-built gcc. */
  compiler: string;
  progress: Progress;
  signal?: AbortSignal;
  lockTimeoutMs?: number;
}

/** The stable family of a suite family's codename: the suites a root of it installs from (no backports). */
export function rootFamily(suite: string): SuiteFamily | undefined {
  const codename = findFamilyByName(suite)?.codename;
  return codename === undefined ? undefined : findFamilyByName(codename);
}

export function buildRootDir(cacheRoot: string, codename: string, gcc: GccCompiler): string {
  return path.join(cacheRoot, 'roots', codename, `${gcc.packageName}_${gcc.debianVersion ?? gcc.version}`);
}

/** mmdebstrap's arguments for a root of `family` with `gcc` into `out`. */
export function mmdebstrapArgs(family: SuiteFamily, gcc: GccCompiler, out: string, uid = process.getuid?.()): string[] {
  const sources = renderSourcesList(family, ARCHIVE_KEYRING).trimEnd().split('\n');
  return [
    '--variant=minbase',
    `--mode=${uid === 0 ? 'root' : 'unshare'}`,
    '--aptopt=Acquire::Retries "3"',
    `--include=${[`${gcc.packageName}=${gcc.debianVersion ?? gcc.version}`, ...ROOT_PACKAGES].join(',')}`,
    family.codename,
    out,
    ...sources,
  ];
}

export function parseBuildRootManifest(text: string): BuildRootManifest | undefined {
  try {
    const m = JSON.parse(text) as Partial<BuildRootManifest>;
    const ok = m.schema === MANIFEST_SCHEMA && typeof m.codename === 'string' && typeof m.cc === 'string' && typeof m.comment === 'string' && typeof m.ccVersion === 'string';
    return ok ? (m as BuildRootManifest) : undefined;
  } catch {
    return undefined;
  }
}

async function readComplete(dir: string): Promise<BuildRoot | undefined> {
  const text = await fsp.readFile(path.join(dir, BUILD_ROOT_MANIFEST), 'utf8').catch(() => undefined);
  const manifest = text === undefined ? undefined : parseBuildRootManifest(text);
  const root = path.join(dir, 'root');
  if (!manifest || !(await pathExists(root))) return undefined;
  return { dir, root, manifest, created: false };
}

/** The build root of a kernel's suite and compiler: reused when complete, else made (locked per root, staged). */
export async function ensureBuildRoot(options: BuildRootOptions): Promise<BuildRoot> {
  const gcc = parseGccCompiler(options.compiler);
  const family = rootFamily(options.suite);
  if (!gcc?.debianVersion || !family) {
    throw new RebootlessError('TOOLCHAIN_UNAVAILABLE', {
      compiler: options.compiler,
      host: null,
      reason: !family ? `rebootless knows no Debian suite '${options.suite}' to make a build root of` : 'a build root can only provide compilers Debian built',
    });
  }
  const dir = buildRootDir(options.cacheRoot, family.codename, gcc);
  const done = await readComplete(dir);
  if (done) return done;

  await fsp.mkdir(path.dirname(dir), { recursive: true });
  const release = await acquireLock(`${dir}.lock`, {
    timeoutMs: options.lockTimeoutMs ?? 30 * 60_000,
    onWait: (h) => options.progress.log(`waiting for another rebootless (pid ${h.pid}) making the ${family.codename} build root`),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const again = await readComplete(dir);
    if (again) return again;
    await fsp.rm(path.join(dir, BUILD_ROOT_MANIFEST), { force: true });
    options.progress.log(`making a Debian ${family.codename} build root with ${gcc.packageName} ${gcc.debianVersion} (once; it is reused) in ${dir}`);
    await fsp.mkdir(dir, { recursive: true });
    await runStages(dir, rootStages(family, gcc, options.cacheRoot), { progress: options.progress, ...(options.signal ? { signal: options.signal } : {}) });
    const made = await readComplete(dir);
    if (!made) throw new Error(`build root ${dir} has no manifest after its stages completed`);
    return { ...made, created: true };
  } finally {
    await release();
  }
}

function rootStages(family: SuiteFamily, gcc: GccCompiler, cacheRoot: string): Stage[] {
  const t0 = Date.now();
  const args = (out: string) => mmdebstrapArgs(family, gcc, out);
  return [
    {
      name: 'bootstrap',
      output: 'root',
      async run(ctx) {
        if (!(await commandExists('mmdebstrap'))) throw new RebootlessError('TOOL_MISSING', { tool: 'mmdebstrap', packageName: 'mmdebstrap' });
        if (!(await pathExists(ARCHIVE_KEYRING))) throw new RebootlessError('ARCHIVE_KEYRING_MISSING', { path: ARCHIVE_KEYRING });
        // In a private mount namespace: what mmdebstrap mounts inside the root (proc, sys, dev) is never
        // seen outside and goes away with it, even after kill -9. If rebootless dies, mmdebstrap is told
        // to stop (parent-death signal) rather than keep writing into a partial root the next run removes.
        try {
          await runCommand('unshare', ['--mount', '--', 'setpriv', '--pdeathsig', 'TERM', '--', 'mmdebstrap', ...args(ctx.out)], {
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
        } catch (e) {
          throw bootstrapFailure(e, family.codename, gcc, ctx.root);
        }
      },
    },
    {
      name: 'check',
      async run(ctx) {
        const root = path.join(ctx.root, 'root');
        // mount points for the usual binds, so a caller without root (user namespace) finds them
        for (const d of [cacheRoot, os.tmpdir()]) await fsp.mkdir(path.join(root, path.resolve(d)), { recursive: true });
        const tmp = os.tmpdir();
        const tc: Toolchain = { kind: 'root', root, suite: family.codename, binds: [tmp] };
        const ccVersion = (await runInToolchain(tc, gcc.packageName, ['--version'], { cwd: tmp })).stdout.split('\n')[0]?.trim() ?? '';
        const comment = (await probeCompilerComment(tc, gcc.packageName, tmp)) ?? '(no .comment)';
        if (comment !== gccComment(gcc)) {
          throw new RebootlessError('BUILD_ROOT_COMPILER_MISMATCH', { suite: family.codename, root, expected: gccComment(gcc), found: comment });
        }
        const manifest: BuildRootManifest = {
          schema: MANIFEST_SCHEMA,
          codename: family.codename,
          cc: gcc.packageName,
          ccVersion,
          comment,
          packages: [`${gcc.packageName}=${gcc.debianVersion}`, ...ROOT_PACKAGES],
          sources: renderSourcesList(family, ARCHIVE_KEYRING).trimEnd().split('\n'),
          bytes: await directorySize(root),
          seconds: Math.round((Date.now() - t0) / 1000),
          createdAt: new Date().toISOString(),
        };
        await writeFileAtomic(path.join(ctx.root, BUILD_ROOT_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
      },
    },
  ];
}

/** mmdebstrap's failure as the user's problem: the pinned compiler gone from the archive, or anything else with its output. */
export function bootstrapFailure(e: unknown, codename: string, gcc: GccCompiler, dir: string): unknown {
  // a full disk stays what it is: the stage runner reports it as DISK_FULL
  if (!isRebootlessError(e) || e.code !== 'COMMAND_FAILED' || isNoSpaceError(e)) return e;
  const tail = (e as RebootlessError<'COMMAND_FAILED'>).data.stderrTail;
  if (new RegExp(`Version '[^']+' for '${gcc.packageName}' was not found`).test(tail)) {
    return new RebootlessError(
      'BUILD_ROOT_COMPILER_UNAVAILABLE',
      { suite: codename, packageName: gcc.packageName, version: gcc.debianVersion ?? gcc.version, compiler: gccComment(gcc) },
      { cause: e },
    );
  }
  return new RebootlessError('BUILD_ROOT_FAILED', { suite: codename, dir, step: 'mmdebstrap', outputTail: tail }, { cause: e });
}

/** The real facts for chooseToolchain: the host's compiler probed in the temp dir, build roots under the cache. */
export function toolchainFacts(options: Omit<BuildRootOptions, 'suite' | 'compiler'>): ToolchainFacts {
  return {
    hostComment: (cc) => probeCompilerComment({ kind: 'host' }, cc),
    buildRoot: async (suite, compiler) => {
      const r = await ensureBuildRoot({ ...options, suite, compiler });
      return { root: r.root, suite: r.manifest.codename };
    },
  };
}
