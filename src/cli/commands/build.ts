import path from 'node:path';
import type { Command } from 'commander';
import { buildLivepatch, patchModuleName, type BuildReport } from '../../pipeline/index.js';
import { writeFileAtomic } from '../../util/fs.js';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { collect } from '../options.js';
import { toJson } from '../render.js';
import { fetchWithProgress } from './kernel.js';


export function renderBuild(r: BuildReport): string {
  const lines = [`${r.output}: live patch module ${r.module} for ${r.release}`];
  for (const o of r.objects) {
    const target = o.owner.kind === 'vmlinux' ? 'vmlinux' : `module ${o.owner.name}`;
    lines.push(`  ${o.source} (${target}):`);
    for (const f of o.patched) lines.push(`    patched  ${f.name}${f.sympos ? `,${f.sympos}` : ''}`);
    for (const f of o.carried) lines.push(`    carried  ${f}`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(`  stages: ${Object.entries(r.timings).map(([k, v]) => `${k} ${formatDuration(v)}`).join(', ')}`);
  return lines.join('\n') + '\n';
}

interface BuildFlags {
  kernel?: string;
  output?: string;
  name?: string;
  description?: string;
  cve: string[];
  replace: boolean;
  json?: string;
  keepWorkdir?: boolean;
}

export function registerBuild(program: Command, ctx: CliContext, setExit: SetExit): void {
  program
    .command('build')
    .description('build a livepatch module from a source diff (compiles only the changed files; exit 2 unpatchable, 3 no functional change)')
    .argument('<patch...>', 'unified diffs against the release source (.c files)')
    .option('--kernel <release>', 'kernel release (default: as `kernel fetch`; fetched if missing)')
    .option('-o, --output <file.ko>', 'where to write the module (default: livepatch_NAME.ko)')
    .option('--name <name>', 'patch name (default: the first patch file name)')
    .option('--description <text>', 'recorded in the module')
    .option('--cve <id>', 'CVE id fixed by the patch, recorded in the module (repeatable)', collect, [])
    .option('--no-replace', 'stack on the loaded patches instead of atomically replacing them')
    .option('--json <report>', 'also write the build report as JSON to this file')
    .option('--keep-workdir', 'keep the work directory (snapshot, objects, module sources)')
    .action(async (patches: string[], f: BuildFlags) => {
      const { workspace } = await fetchWithProgress(ctx, f.kernel, false);
      const name = f.name ?? path.basename(patches[0] as string).replace(/\.(patch|diff)$/, '');
      const progress = ctx.progress(false);
      try {
        const report = await buildLivepatch({
          workspace,
          patches,
          name,
          output: f.output ?? `${patchModuleName(name)}.ko`,
          replace: f.replace,
          ...(f.description ? { description: f.description } : {}),
          cves: f.cve,
          ...(f.keepWorkdir ? { keepWorkdir: true } : {}),
          progress,
          signal: ctx.signal,
        });
        progress.close();
        ctx.io.stdout.write(renderBuild(report));
        if (f.json) await writeFileAtomic(f.json, toJson(report));
        setExit(0);
      } finally {
        progress.close();
      }
    });
}
