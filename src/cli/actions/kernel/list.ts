import { cacheRoot } from '../../../kernel/cache.js';
import { listWorkspaces } from '../../../kernel/workspace.js';
import type { CliContext, SetExit } from '../../context.js';
import { printJson, table } from '../../render.js';
import { toolchainOf } from './workspace.js';

/** `rebootless kernel list`. */
export async function kernelList(ctx: CliContext, setExit: SetExit, opts: { json?: boolean }): Promise<void> {
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
}
