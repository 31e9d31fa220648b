import { existsSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readConfigValue } from '../../src/kernel/config.js';
import { kbuildVariables } from '../../src/kernel/kbuild-vars.js';
import { runInToolchain, workspaceToolchain } from '../../src/kernel/toolchain.js';
import { fetchRelease } from '../../src/kernel/fetch.js';
import { listFetchableReleases } from '../../src/kernel/fetchable.js';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { runCommand } from '../../src/util/process.js';
import { silentProgress } from '../../src/util/progress.js';
import { REPO } from './run-cli.js';

/** The cache the slow tests share within one run (CI points it at a fresh directory). */
export function sharedCache(): string {
  return process.env.REBOOTLESS_CACHE ?? path.join(REPO, '.rebootless-test-cache');
}

/** The default release's workspace in the shared cache, fetched if needed. */
export async function defaultWorkspace(): Promise<KernelWorkspace> {
  const r = await fetchRelease({ cacheRoot: sharedCache(), progress: silentProgress });
  return r.workspace;
}

/**
 * bookworm-backports' newest 6.12 cloud release (the archive's, never
 * hard-coded), fetched if needed: the newer kbuild (savedcmd_ records,
 * modules.order of .o files, .module-common.o) with the host's gcc-12.
 */
export async function backports612Workspace(): Promise<KernelWorkspace> {
  const cacheRoot = sharedCache();
  const all = await listFetchableReleases({ cacheRoot, progress: silentProgress, hostRelease: '' });
  const r = all.find((x) => x.family === 'bookworm-backports' && x.flavor === 'cloud-amd64' && x.series === '6.12');
  if (!r) throw new Error('the archive serves no bookworm-backports 6.12 cloud-amd64 kernel today');
  return (await fetchRelease({ cacheRoot, requested: r.release, progress: silentProgress })).workspace;
}

/**
 * An in-tree build directory as a user would have it, for `kernel add`: the workspace's
 * prepared tree hard-linked (never written: replace a file by unlinking it first), with
 * vmlinux and System.map beside it and the release in include/config/kernel.release.
 */
export async function copyPreparedTree(ws: KernelWorkspace, dest: string): Promise<void> {
  await runCommand('cp', ['-al', ws.sourceTree, dest]);
  symlinkSync(ws.vmlinux, path.join(dest, 'vmlinux'));
  symlinkSync(ws.systemMap, path.join(dest, 'System.map'));
  unlinkSync(path.join(dest, 'include/config/kernel.release'));
  writeFileSync(path.join(dest, 'include/config/kernel.release'), `${ws.release}\n`);
  // A built tree has resolve_btfids, which kbuild runs on a module beside a vmlinux (BTF);
  // a prepared tree has no vmlinux and skips it. Its build only adds files (the workspace stays untouched).
  const btf = (await readConfigValue(ws.config, 'CONFIG_DEBUG_INFO_BTF_MODULES')) === 'y';
  if (btf && !existsSync(path.join(dest, 'tools/bpf/resolve_btfids/resolve_btfids'))) {
    const make = ['-C', dest, ...kbuildVariables({ cc: ws.cc, release: ws.release }), `-j${os.cpus().length}`, 'tools/bpf/resolve_btfids'];
    await runInToolchain(workspaceToolchain(ws), 'make', make, { cwd: dest });
  }
}
