import type { Command } from 'commander';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';
import { fetchWithProgress, workspaceJson } from './kernel.js';
import { ensureRequirements, refreshAptLists } from './requirements.js';

export function registerDemo(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('demo')
    .description('the main job: fetch the default kernel release and prepare it (building and proving a patch comes with `rebootless build`)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const json = opts.json === true;
      const t0 = Date.now();
      await ensureRequirements(ctx, json);
      const r = await fetchWithProgress(ctx, undefined, json).catch(async (e: unknown) => {
        if (await refreshAptLists(e)) return fetchWithProgress(ctx, undefined, json);
        throw e;
      });
      const took = Date.now() - t0;
      if (json) {
        printJson(ctx.io.stdout, { workspace: workspaceJson(r.workspace), cached: r.cached, stages: r.stages, ms: took, next: 'build' });
      } else {
        const w = r.workspace;
        ctx.io.stdout.write(
          [
            `rebootless demo: kernel workspace for ${w.release} (Debian ${w.debianVersion}) is ready (${formatDuration(took)}).`,
            `  kernel image:        ${w.vmlinuz}`,
            `  vmlinux (symbols):   ${w.vmlinux}`,
            `  prepared source:     ${w.sourceTree}`,
            `  built with:          ${w.compiler}`,
            '',
            'What comes next: `rebootless build examples/cmdline.patch` will compile only the changed',
            'file, turn the changed functions into a livepatch module, and `rebootless try` will boot',
            'this kernel in a VM and show /proc/cmdline before, while patched, and after the revert.',
            'Those commands are not built yet; see the README for the current state.',
            '',
          ].join('\n'),
        );
      }
      setExit(0);
    });
}
