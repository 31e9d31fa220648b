import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { buildLivepatch } from '../../build/pipeline.js';
import { packageRoot } from '../../vm/initramfs.js';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';
import { fetchWithProgress, workspaceJson } from './kernel.js';
import { ensureRequirements, refreshAptLists } from './requirements.js';
import { failureOf, runTry } from './try.js';
import { liveDemo } from './demo-live.js';
import { RebootlessError } from '../../errors/index.js';

export function registerDemo(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('demo')
    .description('the main job: fetch the default kernel, build examples/cmdline.patch into a live patch, prove it in a VM, then apply, inspect and revert it there with the live commands')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const json = opts.json === true;
      const out = (s: string): void => {
        if (!json) ctx.io.stdout.write(s);
      };
      const t0 = Date.now();
      await ensureRequirements(ctx, json);
      const fetched = await fetchWithProgress(ctx, undefined, json).catch(async (e: unknown) => {
        if (await refreshAptLists(e)) return fetchWithProgress(ctx, undefined, json);
        throw e;
      });
      const ws = fetched.workspace;
      const fetchMs = Date.now() - t0;
      out(`1. kernel ${ws.release} (Debian ${ws.debianVersion}) ${fetched.cached ? 'was already fetched' : 'fetched and prepared'} (${formatDuration(fetchMs)})\n`);

      const patch = path.join(packageRoot(), 'examples', 'cmdline.patch');
      const work = mkdtempSync(path.join(os.tmpdir(), 'rebootless-demo-'));
      try {
        const progress = ctx.progress(json);
        const t1 = Date.now();
        const report = await buildLivepatch({
          workspace: ws,
          patches: [patch],
          name: 'cmdline',
          output: path.join(work, 'livepatch_cmdline.ko'),
          replace: true,
          description: 'rebootless demo: /proc/cmdline says it was live patched',
          progress,
          signal: ctx.signal,
        }).finally(() => progress.close());
        const buildMs = Date.now() - t1;
        out(
          `2. built ${path.basename(report.output)} from examples/cmdline.patch in ${formatDuration(buildMs)}: ` +
            `${report.objects.flatMap((o) => o.patched.map((f) => f.name)).join(', ')} patched (${Object.entries(report.timings)
              .map(([k, v]) => `${k} ${formatDuration(v)}`)
              .join(', ')})\n`,
        );
        out('3. proving it in a throwaway VM of the same kernel:\n');
        const t2 = Date.now();
        const tr = await runTry(ctx, ws, report.output, 'cat /proc/cmdline', [], true);
        const tryMs = Date.now() - t2;
        const step = (n: string): string => tr.steps.find((s) => s.name === n)?.output.trim() ?? '(not reached)';
        out(
          [
            `   /proc/cmdline before:        ${step('check-before')}`,
            `   /proc/cmdline while patched: ${step('check-patched')}`,
            `   /proc/cmdline after revert:  ${step('check-after')}`,
            `   steps: ${tr.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.name} ${formatDuration(s.ms)}`).join(', ')} (${formatDuration(tryMs)})`,
            '',
          ].join('\n'),
        );
        const err = failureOf(tr);
        if (err) {
          if (json) printJson(ctx.io.stdout, { workspace: workspaceJson(ws), build: report, try: tr, ms: { fetch: fetchMs, build: buildMs, try: tryMs }, ok: false });
          throw err;
        }
        out('4. the live commands, run by rebootless inside a VM as on a real host:\n');
        const t3 = Date.now();
        const live = await liveDemo(ws, report.output, 'livepatch_cmdline', ctx.signal);
        const liveMs = Date.now() - t3;
        out(live.steps.map((s) => `   # ${s.command}\n${s.output.split('\n').map((l) => (l ? `     ${l}` : '')).join('\n')}\n`).join(''));
        if (json) printJson(ctx.io.stdout, { workspace: workspaceJson(ws), build: report, try: tr, live, ms: { fetch: fetchMs, build: buildMs, try: tryMs, live: liveMs }, ok: live.ok });
        const failed = live.steps.find((s) => s.exitCode !== 0);
        if (failed) throw new RebootlessError('VM_TRY_FAILED', { step: failed.command, output: failed.output });
        out(`The patch took effect in a running ${ws.release} kernel and reverted cleanly, without a reboot (${formatDuration(Date.now() - t0)} in all).\n`);
        setExit(0);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}
