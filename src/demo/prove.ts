import { RebootlessError } from '../errors/index.js';
import { cacheRoot } from '../kernel/cache.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { assertVerified, verifyModuleFile, type VerifyReport } from '../pipeline/verify.js';
import { troubleError } from '../vm/console-scan.js';
import { tryLivepatch, type TryReport, type TryStep } from '../vm/try.js';

// Proving a module before it goes near a host (`rebootless try`, the demo's
// third step): the independent verify against the release first (a module
// that uses the wrong kernel data can still pass in a VM), then the VM try.

export interface ProveOptions {
  workspace: KernelWorkspace;
  module: string;
  /** Guest shell command whose output shows the patch working. */
  check: string;
  /** Release modules to ship for modprobe. */
  modules?: string[];
  setup?: string;
  onVerified?: (r: VerifyReport) => void;
  onStep?: (s: TryStep) => void;
}

export interface ProveReport {
  verify: VerifyReport;
  try: TryReport;
}

/** Verifies (throws VERIFY_FAILED), then tries the module in a VM; a failed VM step is in the report (see tryFailure). */
export async function proveModule(o: ProveOptions): Promise<ProveReport> {
  const verify = await verifyModuleFile(o.module, o.workspace);
  assertVerified(verify);
  o.onVerified?.(verify);
  const tried = await tryLivepatch({
    workspace: o.workspace,
    cacheRoot: cacheRoot(),
    module: o.module,
    patchName: verify.module,
    check: o.check,
    modules: o.modules ?? [],
    ...(o.setup ? { setup: o.setup } : {}),
    ...(o.onStep ? { onStep: o.onStep } : {}),
  });
  return { verify, try: tried };
}

/** The error a failed try deserves: kernel trouble first, then the failed step; undefined when it passed. */
export function tryFailure(r: TryReport): RebootlessError | undefined {
  if (r.trouble.length) return troubleError(r.trouble);
  const bad = r.steps.find((s) => !s.ok) ?? (r.ok ? undefined : r.steps.at(-1));
  return bad ? new RebootlessError('VM_TRY_FAILED', { step: bad.name, output: bad.output }) : undefined;
}
