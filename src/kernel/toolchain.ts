import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RebootlessError, isRebootlessError } from '../errors/index.js';
import { compilerOf } from '../elf/comment.js';
import { readElfFile } from '../elf/files.js';
import { removePath } from '../util/fs.js';
import { runCommand, type RunOptions, type RunResult } from '../util/process.js';
import { shellCommand } from '../util/shell.js';
import { gccComment, parseGccCompiler, type GccCompiler } from './compiler.js';

// Where a kernel's objects are compiled and linked: on the host when it has
// the exact compiler vmlinux's `.comment` records, else inside a build root
// of the Debian suite that built the kernel (build-root.ts), which has that
// compiler at that exact Debian version. The compiler check stays exact
// either way: objects must say what vmlinux says.
//
// Use (compile, link, prepare):
//
//   const tc = await chooseToolchain(
//     { compiler: vmlinuxComment ?? ws.compiler, suite: ws.suite, binds: [cacheRoot, os.tmpdir()] },
//     toolchainFacts({ cacheRoot, progress, signal }),   // build-root.ts
//   );
//   await runInToolchain(tc, 'make', ['-C', tree, `CC=${ws.cc}`, ...], { cwd: tree, signal });
//
// In a root, a command sees the root's /usr (its compiler, make, libraries)
// and, at the same absolute paths as outside, exactly the directories of
// `binds` plus /dev and /proc: every path it is given or writes must lie in
// one of them. A tree prepared in a root holds host programs (fixdep, objtool,
// modpost) linked against the root's C library, so every later make on that
// tree must run in the same root. Running a root needs root, or unprivileged
// user namespaces (unshare --map-root-user) and mount points that exist in
// the root (ensureBuildRoot makes them for the cache root and the temp dir).

export type Toolchain = { kind: 'host' } | { kind: 'root'; root: string; suite: string; binds: readonly string[] };

export interface ToolchainCommand {
  file: string;
  args: string[];
  /** The working directory to give runCommand (the same path inside a root). */
  cwd: string;
}

export interface ToolchainCommandOptions {
  /** Absolute; in a root it must lie in one of the binds. */
  cwd: string;
  /** Map the caller to root in a new user namespace; default: when the caller is not root. */
  userNamespace?: boolean;
}

const isWithin = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Bind mounts in mount order: absolute, normalized, each once, parents before children; never `/`. */
export function bindOrder(binds: readonly string[]): string[] {
  const norm = binds.map((b) => {
    if (!path.isAbsolute(b)) throw new Error(`toolchain bind '${b}' is not an absolute path`);
    const n = path.resolve(b);
    if (n === '/') throw new Error("toolchain bind '/' would hide the build root");
    return n;
  });
  return [...new Set(norm)].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/**
 * The program and arguments that run `file args` with a toolchain: as is on
 * the host; for a root, in a private mount namespace (nothing leaks to the
 * host and everything is gone when the command ends) where /dev, /proc and
 * the binds are mounted into the root at their own paths, then chrooted
 * into it. No process is forked on the way (sh and unshare exec), so a
 * signal to the returned process reaches the command itself.
 */
export function toolchainCommand(tc: Toolchain, file: string, args: readonly string[], options: ToolchainCommandOptions): ToolchainCommand {
  const cwd = path.resolve(options.cwd);
  if (tc.kind === 'host') return { file, args: [...args], cwd };
  const binds = bindOrder(tc.binds);
  if (!binds.some((b) => isWithin(cwd, b))) throw new Error(`working directory ${cwd} is not under a directory bound into the build root (${binds.join(', ')})`);
  const inRoot = (p: string): string => path.join(tc.root, p);
  const script = [
    'set -e',
    shellCommand(['mount', '--rbind', '/dev', inRoot('/dev')]),
    shellCommand(['mount', '--rbind', '/proc', inRoot('/proc')]),
    ...binds.flatMap((b) => [shellCommand(['mkdir', '-p', inRoot(b)]), shellCommand(['mount', '--bind', b, inRoot(b)])]),
    `exec ${shellCommand(['unshare', `--root=${tc.root}`, `--wd=${cwd}`, '--', file, ...args])}`,
  ].join('\n');
  const userNamespace = options.userNamespace ?? process.getuid?.() !== 0;
  return { file: 'unshare', args: [...(userNamespace ? ['--map-root-user'] : []), '--mount', '--', 'sh', '-c', script], cwd };
}

/** runCommand with a toolchain; a failure names the command as given and the root it ran in. */
export async function runInToolchain(tc: Toolchain, file: string, args: readonly string[], options: RunOptions & { cwd: string }): Promise<RunResult> {
  const c = toolchainCommand(tc, file, args, { cwd: options.cwd });
  try {
    return await runCommand(c.file, c.args, { ...options, cwd: c.cwd });
  } catch (e) {
    if (tc.kind === 'root' && isRebootlessError(e) && e.code === 'COMMAND_FAILED') {
      const d = (e as RebootlessError<'COMMAND_FAILED'>).data;
      throw new RebootlessError('COMMAND_FAILED', { ...d, command: `${shellCommand([file, ...args])}  (in the ${tc.suite} build root ${tc.root})` }, { cause: e });
    }
    throw e;
  }
}

/**
 * The `.comment` string `cc` writes into an object it compiles with this
 * toolchain, or null when there is no such compiler. The probe is compiled
 * in a fresh directory under `tmp` (which a root must bind).
 */
export async function probeCompilerComment(tc: Toolchain, cc: string, tmp = os.tmpdir()): Promise<string | null> {
  const dir = await fsp.mkdtemp(path.join(tmp, 'rebootless-cc-'));
  try {
    const obj = path.join(dir, 'probe.o');
    try {
      await runInToolchain(tc, cc, ['-c', '-x', 'c', '-', '-o', obj], { cwd: dir, input: 'int rebootless_probe;\n' });
    } catch (e) {
      if (isRebootlessError(e) && (e.code === 'TOOL_MISSING' || e.code === 'COMMAND_FAILED')) return null;
      throw e;
    }
    return compilerOf(await readElfFile(obj)) ?? null;
  } finally {
    await removePath(dir);
  }
}

/** Where the kernel's compiler comes from: pure, from the facts. */
export type ToolchainDecision = { kind: 'host' } | { kind: 'root'; suite: string; compiler: GccCompiler };

/**
 * Host when the host's compiler of the kernel's gcc major version writes
 * exactly the kernel's `.comment` string; else a build root of the kernel's
 * suite, which needs a Debian-built gcc (its version names the package to
 * install). `compiler` is either spelling (compiler.ts); a compiler that is
 * not gcc stays on the host, where the build's exact check judges it.
 */
export function decideToolchain(compiler: string, suite: string | undefined, hostComment: string | null): ToolchainDecision {
  const gcc = parseGccCompiler(compiler);
  if (!gcc || hostComment === gccComment(gcc)) return { kind: 'host' };
  const unavailable = (reason: string): RebootlessError => new RebootlessError('TOOLCHAIN_UNAVAILABLE', { compiler: gccComment(gcc), host: hostComment, reason });
  if (gcc.debianVersion === undefined) throw unavailable(`a build root can only provide compilers Debian built, not '${gcc.vendor}'`);
  if (suite === undefined) throw unavailable('the kernel has no Debian suite to make a build root of');
  return { kind: 'root', suite, compiler: gcc };
}

export interface ToolchainRequest {
  /** The kernel's compiler: vmlinux's `.comment` string, or CONFIG_CC_VERSION_TEXT. */
  compiler: string;
  /** The suite family the kernel came from (manifest `suite`); undefined for a kernel not from Debian. */
  suite: string | undefined;
  /** Directories commands in a root read and write, e.g. the cache root and the temp dir. */
  binds: readonly string[];
}

/** What chooseToolchain asks of the world; tests inject their own. */
export interface ToolchainFacts {
  /** The `.comment` string the host's `cc` writes, or null when the host has no such compiler. */
  hostComment(cc: string): Promise<string | null>;
  /** Makes or reuses the build root (ensureBuildRoot) and returns its directory to chroot into. */
  buildRoot(suite: string, compiler: string): Promise<{ root: string; suite: string }>;
}

export async function chooseToolchain(req: ToolchainRequest, facts: ToolchainFacts): Promise<Toolchain> {
  const gcc = parseGccCompiler(req.compiler);
  const hostComment = gcc ? await facts.hostComment(gcc.packageName) : null;
  const d = decideToolchain(req.compiler, req.suite, hostComment);
  if (d.kind === 'host') return { kind: 'host' };
  const r = await facts.buildRoot(d.suite, gccComment(d.compiler));
  return { kind: 'root', root: r.root, suite: r.suite, binds: req.binds };
}

/** The toolchain a fetched workspace builds with: its build root, if it has one, binding the workspace (`<dir>/source/<tree>`) and the temp dir. */
export function workspaceToolchain(ws: { buildRoot?: string; suite?: string; sourceTree: string }, tmp = os.tmpdir()): Toolchain {
  if (!ws.buildRoot) return { kind: 'host' };
  return { kind: 'root', root: ws.buildRoot, suite: ws.suite ?? 'unknown', binds: [path.resolve(ws.sourceTree, '..', '..'), tmp] };
}
