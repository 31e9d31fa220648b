import { RebootlessError } from '../errors/index.js';
import { commandExists, runCommand } from '../util/process.js';
import { parseGccCompiler } from './compiler.js';
import type { KernelWorkspace } from './manifest.js';

// What the host needs for rebootless to fetch, prepare, build and boot, each
// as the Debian package that provides it.

export interface Requirement {
  name: string;
  packageName: string;
  /** A program the package must put on PATH. */
  command?: string;
  purpose: string;
}

export const REQUIREMENTS: readonly Requirement[] = [
  { name: 'gcc', packageName: 'gcc', command: 'gcc', purpose: 'compile kernel objects' },
  { name: 'libc6-dev', packageName: 'libc6-dev', purpose: 'build kbuild host tools' },
  { name: 'make', packageName: 'make', command: 'make', purpose: 'drive kbuild' },
  { name: 'flex', packageName: 'flex', command: 'flex', purpose: 'kbuild (Kconfig, dtc)' },
  { name: 'bison', packageName: 'bison', command: 'bison', purpose: 'kbuild (Kconfig, dtc)' },
  { name: 'bc', packageName: 'bc', command: 'bc', purpose: 'kbuild (timeconst)' },
  { name: 'libelf-dev', packageName: 'libelf-dev', purpose: 'objtool' },
  { name: 'libssl-dev', packageName: 'libssl-dev', purpose: 'kbuild (sign-file, certs)' },
  { name: 'dwarves', packageName: 'dwarves', command: 'pahole', purpose: "Kconfig keeps the release's BTF options only when pahole is found" },
  { name: 'python3', packageName: 'python3', command: 'python3', purpose: 'kbuild (6.12 modules_prepare scripts)' },
  { name: 'xz-utils', packageName: 'xz-utils', command: 'xz', purpose: 'unpack linux-source' },
  { name: 'cpio', packageName: 'cpio', command: 'cpio', purpose: 'VM initramfs' },
  { name: 'qemu-system-x86', packageName: 'qemu-system-x86', command: 'qemu-system-x86_64', purpose: 'boot the target kernel' },
  { name: 'busybox-static', packageName: 'busybox-static', purpose: 'VM userland' },
  { name: 'apt-get', packageName: 'apt', command: 'apt-get', purpose: 'download Debian kernel packages' },
  { name: 'dpkg-deb', packageName: 'dpkg', command: 'dpkg-deb', purpose: 'unpack Debian packages' },
  { name: 'kmod', packageName: 'kmod', command: 'depmod', purpose: 'module dependency lists for the VM' },
];

/**
 * Needed only when a fetched kernel's exact compiler cannot be had on the
 * host (another Debian release's gcc): mmdebstrap makes the build root that
 * has it (build-root.ts).
 */
export const BUILD_ROOT_REQUIREMENT: Requirement = {
  name: 'mmdebstrap',
  packageName: 'mmdebstrap',
  command: 'mmdebstrap',
  purpose: "build roots with a kernel's exact compiler, when the host cannot have it",
};

/** Where a kernel's compiler comes from: the host (installed, or installable at the exact version) or a build root. */
export type CompilerSource = 'host' | 'build root';

export interface RequirementStatus {
  name: string;
  packageName: string;
  purpose: string;
  found: boolean;
  version: string | null;
}

export interface CompilerCheck {
  release: string;
  expected: string;
  cc: string;
  found: string | null;
  matches: boolean;
  source: CompilerSource;
}

export interface DoctorReport {
  ok: boolean;
  requirements: RequirementStatus[];
  compilers: CompilerCheck[];
  missingPackages: string[];
}

/** Parses `dpkg-query -W -f '${Package}\t${db:Status-Status}\t${Version}\n'` output. */
export function parseDpkgQuery(text: string): Map<string, string> {
  const installed = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [pkg, status, version] = line.split('\t');
    if (pkg && status === 'installed' && version) installed.set(pkg.replace(/:\w+$/, ''), version);
  }
  return installed;
}

/**
 * `expected` is CONFIG_CC_VERSION_TEXT, `found` the host compiler's
 * `--version` line, `candidate` the version the host's apt would install of
 * that gcc-N package (null: none). A Debian gcc the host neither has nor can
 * install at that version comes from a build root.
 */
export function compilerSource(expected: string, found: string | null, candidate: string | null): CompilerSource {
  if (found === expected) return 'host';
  const gcc = parseGccCompiler(expected);
  if (!gcc?.debianVersion || candidate === gcc.debianVersion) return 'host';
  return 'build root';
}

/** The `Candidate:` of `apt-cache policy PACKAGE` output, or null for none or an unknown package. */
export function parseAptCandidate(text: string): string | null {
  const m = /^\s*Candidate:\s*(\S+)/m.exec(text);
  return m && m[1] !== '(none)' ? (m[1] as string) : null;
}

async function aptCandidate(packageName: string): Promise<string | null> {
  try {
    return parseAptCandidate((await runCommand('apt-cache', ['policy', packageName])).stdout);
  } catch {
    return null;
  }
}

/** The text a compiler prints for --version, first line, or null when it is missing. */
async function compilerVersion(cc: string): Promise<string | null> {
  try {
    const { stdout } = await runCommand(cc, ['--version']);
    return stdout.split('\n')[0]?.trim() ?? null;
  } catch {
    return null;
  }
}

export async function checkRequirements(workspaces: KernelWorkspace[] = []): Promise<DoctorReport> {
  const compilers: CompilerCheck[] = [];
  for (const w of workspaces) {
    const found = await compilerVersion(w.cc);
    const gcc = parseGccCompiler(w.compiler);
    const candidate = found === w.compiler || !gcc ? null : await aptCandidate(gcc.packageName);
    compilers.push({ release: w.release, expected: w.compiler, cc: w.cc, found, matches: found === w.compiler, source: compilerSource(w.compiler, found, candidate) });
  }
  // a compiler the host has or can install is a host package; any other needs mmdebstrap instead
  const hostCompilers = new Map<string, Requirement>();
  for (const c of compilers.filter((c) => c.source === 'host')) {
    const packageName = parseGccCompiler(c.expected)?.packageName ?? c.cc;
    if (REQUIREMENTS.some((r) => r.packageName === packageName)) continue;
    hostCompilers.set(packageName, { name: packageName, packageName, command: c.cc, purpose: 'the compiler the fetched kernel was built with' });
  }
  const rootNeeded = compilers.some((c) => c.source === 'build root') ? [BUILD_ROOT_REQUIREMENT] : [];
  const all = [...REQUIREMENTS, ...hostCompilers.values(), ...rootNeeded];
  // dpkg-query exits 1 when a package is unknown but still reports the others.
  const { stdout } = await runCommand('sh', [
    '-c',
    'dpkg-query -W -f "$0" "$@" 2>/dev/null; true',
    '${Package}\t${db:Status-Status}\t${Version}\n',
    ...all.map((r) => r.packageName),
  ]);
  const installed = parseDpkgQuery(stdout);
  const requirements: RequirementStatus[] = [];
  for (const r of all) {
    const version = installed.get(r.packageName) ?? null;
    const found = version !== null && (r.command === undefined || (await commandExists(r.command)));
    requirements.push({ name: r.name, packageName: r.packageName, purpose: r.purpose, found, version: found ? version : null });
  }
  const missingPackages = [...new Set(requirements.filter((r) => !r.found).map((r) => r.packageName))];
  const compilersOk = compilers.every((c) => c.matches || c.source === 'build root');
  return { ok: missingPackages.length === 0 && compilersOk, requirements, compilers, missingPackages };
}

export function installCommand(packages: string[]): string {
  return `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/** Installs packages with apt-get; only root may. */
export async function installPackages(packages: string[], isRoot: boolean, onLine?: (line: string) => void): Promise<void> {
  if (packages.length === 0) return;
  if (!isRoot) throw new RebootlessError('NOT_ROOT', { action: 'installing packages', command: `sudo sh -c '${installCommand(packages)}'` });
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand('apt-get', ['update', '-q'], { env, ...(onLine ? { onLine } : {}) });
  await runCommand('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { env, ...(onLine ? { onLine } : {}) });
}
