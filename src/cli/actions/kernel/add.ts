import { addKernel } from '../../../kernel/add.js';
import { cacheRoot } from '../../../kernel/cache.js';
import type { CliContext, SetExit } from '../../context.js';
import { printJson } from '../../render.js';
import { workspaceJson } from './workspace.js';

export interface KernelAddFlags {
  buildDir: string;
  source?: string;
  vmlinuz?: string;
  modules?: string;
  json?: boolean;
}

/** `rebootless kernel add NAME --build-dir DIR`. */
export async function kernelAdd(ctx: CliContext, setExit: SetExit, name: string, opts: KernelAddFlags): Promise<void> {
  const ws = await addKernel({
    cacheRoot: cacheRoot(),
    name,
    buildDir: opts.buildDir,
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.vmlinuz ? { vmlinuz: opts.vmlinuz } : {}),
    ...(opts.modules ? { modules: opts.modules } : {}),
  });
  if (opts.json) printJson(ctx.io.stdout, workspaceJson(ws));
  else ctx.io.stdout.write(`${name}: kernel ${ws.release} (${ws.compiler}) registered\n  build with: rebootless build --kernel ${name} PATCH\n`);
  setExit(0);
}
