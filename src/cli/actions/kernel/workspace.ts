import { RebootlessError } from '../../../errors/index.js';
import { cacheRoot } from '../../../kernel/cache.js';
import type { KernelWorkspace } from '../../../kernel/manifest.js';
import { listWorkspaces, loadWorkspace } from '../../../kernel/workspace.js';
import { table } from '../../render.js';

/** Where its compiler runs: `host`, or `build root (trixie)`. */
export const toolchainOf = (ws: KernelWorkspace): string => (ws.buildRoot ? `build root (${ws.suite ?? '?'})` : 'host');

/** The stable JSON shape of `kernel show`. */
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

/** The release named with --kernel, else the only one fetched. */
export async function workspaceFor(release: string | undefined): Promise<KernelWorkspace> {
  const root = cacheRoot();
  if (release) return loadWorkspace(root, release);
  const ready = (await listWorkspaces(root)).filter((e) => e.state === 'ready').map((e) => e.release);
  if (ready.length !== 1) throw new RebootlessError('VM_NO_RELEASE', { fetched: ready });
  return loadWorkspace(root, ready[0] as string);
}
