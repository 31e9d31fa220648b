import type { KernelWorkspace } from '../kernel/manifest.js';
import { cacheRoot } from '../kernel/cache.js';
import { Vm } from '../vm/session.js';
import { troubleError, type Trouble } from '../vm/console-scan.js';

// The demo's last step: rebootless itself inside a VM of the release, doing
// what an operator does on a live host: predict, apply, status, revert.

export interface LiveDemo {
  /** The commands run in the guest, each with its output. */
  steps: { command: string; exitCode: number; output: string }[];
  ok: boolean;
}

export async function liveDemo(ws: KernelWorkspace, ko: string, name: string, signal?: AbortSignal): Promise<LiveDemo> {
  const vm = await Vm.start({ workspace: ws, cacheRoot: cacheRoot(), withCli: true, ...(signal ? { signal } : {}) });
  const steps: LiveDemo['steps'] = [];
  let ok = true;
  let trouble: Trouble[] = [];
  try {
    await vm.copyIn(ko, `/root/${name}.ko`);
    for (const command of [`rebootless predict ${name}.ko`, `rebootless apply ${name}.ko`, 'cat /proc/cmdline', `rebootless status ${name}`, `rebootless revert ${name}`, 'cat /proc/cmdline']) {
      const r = await vm.run(`cd /root && ${command} 2>&1`, { timeoutMs: 180_000 });
      steps.push({ command, exitCode: r.exitCode, output: r.output.trimEnd() });
      if (r.exitCode !== 0) {
        ok = false;
        break;
      }
    }
  } finally {
    trouble = (await vm.stop()).trouble;
  }
  if (trouble.length) {
    throw troubleError(trouble);
  }
  return { steps, ok };
}
