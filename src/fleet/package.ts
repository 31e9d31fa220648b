import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RebootlessError } from '../errors/index.js';
import { readModuleFile } from '../runtime/module-file.js';
import { pathExists, removePath } from '../util/fs.js';
import { commandExists, runCommand, tail } from '../util/process.js';
import { patchPackageName, PATCH_DIR, renderControl, renderPostinst, renderPrerm, renderSelfWrapper, SELF_DIR, validDebianVersion, versionFromTime } from './deb-text.js';

// Debian packages: a live patch's (`rebootless package FILE.ko`) and
// rebootless's own (`rebootless package --self`), made with dpkg-deb from a
// staging folder and renamed into place when complete.

export interface PackageReport {
  file: string;
  package: string;
  version: string;
  architecture: string;
  depends: string[];
  /** The patch's module name and release (patch packages only). */
  patch?: { name: string; release: string; cves: string[] };
}

const MAINTAINER = 'rebootless <root@localhost>';

/** The rebootless checkout or installed package this code runs from (dist/<folder>/x.js or dist/bin/x.js). */
function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

async function sizeKb(dir: string): Promise<number> {
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) bytes += (await fsp.stat(p)).size;
    }
  };
  await walk(dir);
  return Math.ceil(bytes / 1024);
}

async function writeFile(root: string, rel: string, data: string | Uint8Array, mode: number): Promise<void> {
  const p = path.join(root, rel);
  await fsp.mkdir(path.dirname(p), { recursive: true });
  await fsp.writeFile(p, data, { mode });
  await fsp.chmod(p, mode);
}

/** dpkg-deb --build of `stage` into outDir/NAME_VERSION_ARCH.deb, written under a temporary name first. */
async function buildDeb(stage: string, outDir: string, pkg: string, version: string, arch: string): Promise<string> {
  if (!(await commandExists('dpkg-deb'))) throw new RebootlessError('TOOL_MISSING', { tool: 'dpkg-deb', packageName: 'dpkg' });
  await fsp.mkdir(outDir, { recursive: true });
  const file = path.join(outDir, `${pkg}_${version.replace(/^\d+:/, '')}_${arch}.deb`);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await runCommand('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, tmp]);
    await fsp.rename(tmp, file);
  } catch (e) {
    const out = e instanceof Error && 'stderr' in e ? String((e as { stderr: unknown }).stderr) : String(e);
    throw new RebootlessError('PACKAGE_BUILD_FAILED', { package: pkg, outputTail: tail(out, 10) }, { cause: e });
  } finally {
    await removePath(tmp);
  }
  return file;
}

function checkVersion(version: string): void {
  if (!validDebianVersion(version)) throw new RebootlessError('PACKAGE_VERSION_INVALID', { version });
}

async function withStage<T>(fn: (stage: string) => Promise<T>): Promise<T> {
  const stage = await fsp.mkdtemp(path.join(os.tmpdir(), 'rebootless-deb-'));
  // the package's root is the host's /: it must not say 0700
  await fsp.chmod(stage, 0o755);
  try {
    return await fn(stage);
  } finally {
    await removePath(stage);
  }
}

/** The package of a live patch: the module for its exact release, applied at install and at every boot, reverted on removal. */
export async function packagePatch(o: { ko: string; outDir: string; version?: string; now?: Date }): Promise<PackageReport> {
  const m = await readModuleFile(o.ko);
  const version = o.version ?? versionFromTime(o.now ?? new Date());
  checkVersion(version);
  const pkg = patchPackageName(m.name);
  const file = `${PATCH_DIR}/${m.release}/${m.name}.ko`;
  const depends = [`linux-image-${m.release}`, 'rebootless'];
  const description = [
    `live patch ${m.name} for Linux ${m.release}`,
    m.description ?? `A rebootless live patch for ${m.release}.`,
    ...(m.cves.length ? ['', `Fixes: ${m.cves.join(', ')}`] : []),
    '',
    'Installing applies the patch to the running kernel when it is that release, and',
    'at every boot of it; removing reverts it.',
  ];
  const out = await withStage(async (stage) => {
    await writeFile(stage, file.slice(1), await fsp.readFile(o.ko), 0o644);
    const script = { name: m.name, release: m.release, file };
    await writeFile(stage, 'DEBIAN/postinst', renderPostinst(script), 0o755);
    await writeFile(stage, 'DEBIAN/prerm', renderPrerm(script), 0o755);
    const control = renderControl({ package: pkg, version, architecture: 'amd64', depends, maintainer: MAINTAINER, section: 'kernel', description, installedSizeKb: await sizeKb(stage) });
    await writeFile(stage, 'DEBIAN/control', control, 0o644);
    return buildDeb(stage, o.outDir, pkg, version, 'amd64');
  });
  return { file: out, package: pkg, version, architecture: 'amd64', depends, patch: { name: m.name, release: m.release, cves: m.cves } };
}

/** What rebootless needs at run time: the bundle, package.json and the decoder package (external to the bundle). */
async function selfFiles(root: string): Promise<string[]> {
  const bundle = path.join(root, 'dist', 'bin');
  if (!(await pathExists(path.join(bundle, 'rebootless.js')))) throw new RebootlessError('VM_CLI_NOT_BUILT', { path: path.join(bundle, 'rebootless.js') });
  const out = ['package.json', 'LICENSE'];
  for (const n of await fsp.readdir(bundle)) if (n.endsWith('.js')) out.push(path.join('dist', 'bin', n));
  const iced = path.join('node_modules', 'iced-x86');
  for (const n of await fsp.readdir(path.join(root, iced))) if (/\.(js|wasm|json)$|^LICENSE/.test(n)) out.push(path.join(iced, n));
  return out;
}

/** rebootless's own package: the bundled CLI on Debian's nodejs. */
export async function packageSelf(o: { outDir: string; version?: string }): Promise<PackageReport> {
  const root = packageRoot();
  const meta = JSON.parse(await fsp.readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const version = o.version ?? meta.version;
  checkVersion(version);
  const depends = ['nodejs (>= 18)', 'kmod'];
  const out = await withStage(async (stage) => {
    for (const rel of await selfFiles(root)) await writeFile(stage, path.join(SELF_DIR, rel).slice(1), await fsp.readFile(path.join(root, rel)), 0o644);
    await writeFile(stage, 'usr/bin/rebootless', renderSelfWrapper(), 0o755);
    const description = [
      'live-patch the running Linux kernel without a reboot',
      'Applies, reverts, installs for boot and reports livepatch modules built by',
      'rebootless (apply, revert, status, install, load-installed).',
    ];
    const control = renderControl({ package: 'rebootless', version, architecture: 'all', depends, maintainer: MAINTAINER, section: 'admin', description, installedSizeKb: await sizeKb(stage) });
    await writeFile(stage, 'DEBIAN/control', control, 0o644);
    return buildDeb(stage, o.outDir, 'rebootless', version, 'all');
  });
  return { file: out, package: 'rebootless', version, architecture: 'all', depends };
}
