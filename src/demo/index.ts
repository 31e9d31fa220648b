import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { buildLivepatch, type BuildReport } from '../pipeline/index.js';
import type { VerifyReport } from '../pipeline/verify.js';
import { formatDuration, type Progress } from '../util/progress.js';
import { packageRoot } from '../vm/initramfs.js';
import type { TryReport } from '../vm/try.js';
import { liveDemo, type LiveDemo } from './live.js';
import { proveModule, tryFailure } from './prove.js';

// `rebootless demo` after the kernel is fetched: examples/cmdline.patch
// built into a module, proven in a VM (/proc/cmdline before, patched, after
// the revert), then applied, inspected and reverted by rebootless itself
// inside a VM as an operator would on a live host. Each step reports a
// numbered line through `say`.

export interface DemoOptions {
  workspace: KernelWorkspace;
  progress: Progress;
  /** One finished step's text (several lines, newline-terminated). */
  say: (text: string) => void;
  signal?: AbortSignal;
}

export interface DemoReport {
  build: BuildReport;
  verify?: VerifyReport;
  try?: TryReport;
  live?: LiveDemo;
  ms: { build: number; try?: number; live?: number };
  ok: boolean;
  /** Why it failed, when it did. */
  error?: RebootlessError;
}

export const DEMO_PATCH = 'cmdline.patch';

export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const patch = path.join(packageRoot(), 'examples', DEMO_PATCH);
  const work = mkdtempSync(path.join(os.tmpdir(), 'rebootless-demo-'));
  try {
    const t1 = Date.now();
    const build = await buildLivepatch({
      workspace: o.workspace,
      patches: [patch],
      name: 'cmdline',
      output: path.join(work, 'livepatch_cmdline.ko'),
      replace: true,
      description: 'rebootless demo: /proc/cmdline says it was live patched',
      progress: o.progress,
      ...(o.signal ? { signal: o.signal } : {}),
    }).finally(() => o.progress.close());
    const report: DemoReport = { build, ms: { build: Date.now() - t1 }, ok: false };
    o.say(
      `2. built ${path.basename(build.output)} from examples/${DEMO_PATCH} in ${formatDuration(report.ms.build)}: ` +
        `${build.objects.flatMap((x) => x.patched.map((f) => f.name)).join(', ')} patched (${timings(build)})\n`,
    );

    o.say('3. proving it in a throwaway VM of the same kernel:\n');
    const t2 = Date.now();
    const proven = await proveModule({ workspace: o.workspace, module: build.output, check: 'cat /proc/cmdline' });
    report.verify = proven.verify;
    report.try = proven.try;
    report.ms.try = Date.now() - t2;
    const step = (n: string): string => proven.try.steps.find((s) => s.name === n)?.output.trim() ?? '(not reached)';
    o.say(
      [
        `   /proc/cmdline before:        ${step('check-before')}`,
        `   /proc/cmdline while patched: ${step('check-patched')}`,
        `   /proc/cmdline after revert:  ${step('check-after')}`,
        `   steps: ✓ verify ${formatDuration(proven.verify.ms)}, ${proven.try.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.name} ${formatDuration(s.ms)}`).join(', ')} (${formatDuration(report.ms.try)})`,
        '',
      ].join('\n'),
    );
    const failed = tryFailure(proven.try);
    if (failed) return { ...report, error: failed };

    o.say('4. the live commands, run by rebootless inside a VM as on a real host:\n');
    const t3 = Date.now();
    const live = await liveDemo(o.workspace, build.output, 'livepatch_cmdline', o.signal);
    report.live = live;
    report.ms.live = Date.now() - t3;
    o.say(live.steps.map((s) => `   # ${s.command}\n${s.output.split('\n').map((l) => (l ? `     ${l}` : '')).join('\n')}\n`).join(''));
    const bad = live.steps.find((s) => s.exitCode !== 0);
    if (bad) return { ...report, error: new RebootlessError('VM_TRY_FAILED', { step: bad.command, output: bad.output }) };
    return { ...report, ok: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const timings = (r: BuildReport): string =>
  Object.entries(r.timings)
    .map(([k, v]) => `${k} ${formatDuration(v)}`)
    .join(', ');
