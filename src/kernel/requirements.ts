import { RebootlessError } from '../errors/index.js';
import { commandExists, runCommand } from '../util/process.js';
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
  { name: 'xz-utils', packageName: 'xz-utils', command: 'xz', purpose: 'unpack linux-source' },
  { name: 'cpio', packageName: 'cpio', command: 'cpio', purpose: 'VM initramfs' },
  { name: 'qemu-system-x86', packageName: 'qemu-system-x86', command: 'qemu-system-x86_64', purpose: 'boot the target kernel' },
  { name: 'busybox-static', packageName: 'busybox-static', purpose: 'VM userland' },
  { name: 'apt-get', packageName: 'apt', command: 'apt-get', purpose: 'download Debian kernel packages' },
  { name: 'dpkg-deb', packageName: 'dpkg', command: 'dpkg-deb', purpose: 'unpack Debian packages' },
  { name: 'kmod', packageName: 'kmod', command: 'depmod', purpose: 'module dependency lists for the VM' },
];

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
  const ccs = [...new Set(workspaces.map((w) => w.cc))];
  const extra: Requirement[] = ccs
    .filter((cc) => !REQUIREMENTS.some((r) => r.packageName === cc))
    .map((cc) => ({ name: cc, packageName: cc, command: cc, purpose: 'the compiler the fetched kernel was built with' }));
  const all = [...REQUIREMENTS, ...extra];
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
  const compilers: CompilerCheck[] = [];
  for (const w of workspaces) {
    const found = await compilerVersion(w.cc);
    compilers.push({ release: w.release, expected: w.compiler, cc: w.cc, found, matches: found === w.compiler });
  }
  const missingPackages = [...new Set(requirements.filter((r) => !r.found).map((r) => r.packageName))];
  return { ok: missingPackages.length === 0 && compilers.every((c) => c.matches), requirements, compilers, missingPackages };
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
