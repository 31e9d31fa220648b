import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { pathExists, removePath } from '../util/fs.js';
import { releaseDir } from './cache.js';
import { readConfigValue } from './config.js';
import type { Progress } from '../util/progress.js';
import { isOutdatedWorkspace, MANIFEST_FILE, serializeManifest, type KernelWorkspace } from './manifest.js';
import { recordTree, TREE_MANIFEST_FILE, writeTreeManifest } from './tree-manifest.js';

// `kernel add`: a kernel built elsewhere (mainline, another distribution, a
// custom config) registered as a workspace under a name of the user's. Its
// build directory must be an in-tree kbuild build (`make` run in the source
// tree, so the tree is prepared and holds vmlinux, .config, Module.symvers,
// System.map). The workspace links to it; builds compile in a hard-linked
// snapshot, so the directory itself is never written: its content manifest,
// recorded here, lets `verifyTree` prove it.

export interface AddKernelOptions {
  cacheRoot: string;
  name: string;
  buildDir: string;
  /** The source tree; only the build directory itself is supported (in-tree builds). */
  source?: string;
  /** The bootable image (default: the build's arch/x86/boot/bzImage); `try` boots it. */
  vmlinuz?: string;
  /** `lib/modules/RELEASE` of the kernel (modules.dep in it), for module targets and the VM. */
  modules?: string;
  /** Reports the bytes hashed while the build directory's content manifest is recorded (a whole build: gigabytes). */
  progress?: Progress;
  signal?: AbortSignal;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const REQUIRED = ['vmlinux', '.config', 'Module.symvers', 'System.map', 'Makefile', 'include/config/kernel.release'];

export async function addKernel(o: AddKernelOptions): Promise<KernelWorkspace> {
  if (!NAME.test(o.name)) throw new RebootlessError('KERNEL_ADD_INVALID', { name: o.name, problem: 'a name is letters, digits and . _ + - (it names a directory of the cache)' });
  const build = await fsp.realpath(o.buildDir).catch(() => {
    throw new RebootlessError('KERNEL_ADD_INVALID', { name: o.name, problem: `no build directory ${o.buildDir}` });
  });
  if (o.source !== undefined && (await fsp.realpath(o.source).catch(() => o.source)) !== build) {
    throw new RebootlessError('KERNEL_ADD_INVALID', { name: o.name, problem: 'the source must be the build directory: out-of-tree (O=) builds are not supported yet; build in the source tree' });
  }
  const missing: string[] = [];
  for (const f of REQUIRED) if (!(await pathExists(path.join(build, f)))) missing.push(f);
  const vmlinuz = o.vmlinuz ? path.resolve(o.vmlinuz) : path.join(build, 'arch/x86/boot/bzImage');
  if (!(await pathExists(vmlinuz))) missing.push(o.vmlinuz ? vmlinuz : 'arch/x86/boot/bzImage (or --vmlinuz)');
  if (o.modules && !(await pathExists(path.join(o.modules, 'modules.dep')))) missing.push(path.join(o.modules, 'modules.dep'));
  if (missing.length) throw new RebootlessError('KERNEL_ADD_INCOMPLETE', { name: o.name, buildDir: build, missing });

  const dir = releaseDir(o.cacheRoot, o.name);
  if (await isOutdatedRegistration(dir)) await removePath(dir);
  if (await pathExists(dir)) throw new RebootlessError('KERNEL_ADD_INVALID', { name: o.name, problem: `the cache already has a kernel of that name (${dir})` });
  const release = (await fsp.readFile(path.join(build, 'include/config/kernel.release'), 'utf8')).trim();
  const compiler = (await readConfigValue(path.join(build, '.config'), 'CONFIG_CC_VERSION_TEXT')) ?? 'unknown';
  const partial = `${dir}.partial`;
  await removePath(partial);
  await fsp.mkdir(partial, { recursive: true });
  try {
    const link = async (target: string, name: string): Promise<string> => {
      await fsp.symlink(target, path.join(partial, name));
      return path.join(dir, name);
    };
    const tree = await link(build, 'build');
    const modulesDir = o.modules ? await link(path.resolve(o.modules), 'modules') : path.join(dir, 'modules');
    if (!o.modules) {
      // no modules: an empty set (the build patches vmlinux; the VM boots what is built in)
      await fsp.mkdir(path.join(partial, 'modules'));
      await fsp.writeFile(path.join(partial, 'modules', 'modules.dep'), '');
    }
    const ws: KernelWorkspace = {
      release,
      debianVersion: 'custom',
      flavor: 'custom',
      compiler,
      cc: compiler.split(' ')[0] ?? 'gcc',
      packages: [],
      fetchedAt: new Date().toISOString(),
      vmlinuz: await link(vmlinuz, 'vmlinuz'),
      vmlinux: path.join(tree, 'vmlinux'),
      systemMap: path.join(tree, 'System.map'),
      config: path.join(tree, '.config'),
      moduleSymvers: path.join(tree, 'Module.symvers'),
      sourceTree: tree,
      modulesDir,
      treeManifest: path.join(dir, TREE_MANIFEST_FILE),
    };
    o.progress?.stage('tree-manifest', build);
    const t0 = Date.now();
    const content = await recordTree(build, { ...(o.progress ? { onBytes: (n: number) => o.progress?.bytes(n) } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    await writeTreeManifest(path.join(partial, TREE_MANIFEST_FILE), content);
    o.progress?.stageDone('tree-manifest', Date.now() - t0);
    await fsp.writeFile(path.join(partial, MANIFEST_FILE), serializeManifest(ws, dir));
    await fsp.rename(partial, dir);
    return ws;
  } catch (e) {
    await removePath(partial);
    throw e;
  }
}

/** A kernel added under this name by an older rebootless (no content manifest): registered again. */
async function isOutdatedRegistration(dir: string): Promise<boolean> {
  if (!(await isOutdatedWorkspace(dir))) return false;
  const raw = JSON.parse(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as { debianVersion?: unknown };
  return raw.debianVersion === 'custom';
}
