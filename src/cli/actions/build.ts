import path from 'node:path';
import { RebootlessError } from '../../errors/index.js';
import { buildLivepatch, patchModuleName, readPatch, type BuildReport } from '../../pipeline/index.js';
import { writeFileAtomic } from '../../util/fs.js';
import { formatDuration } from '../../util/progress.js';
import type { CliContext, SetExit } from '../context.js';
import { toJson } from '../render.js';
import { fetchWithProgress } from './kernel/fetch.js';

export function renderBuild(r: BuildReport): string {
  const lines = [`${r.output}: live patch module ${r.module} for ${r.release}`];
  for (const o of r.objects) {
    const target = o.owner.kind === 'vmlinux' ? 'vmlinux' : `module ${o.owner.name}`;
    lines.push(`  ${o.source} (${target}${o.created ? ', a new file: its code is new code of the patch' : ''}):`);
    for (const f of o.patched) lines.push(`    patched  ${f.name}${f.sympos ? `,${f.sympos}` : ''}`);
    for (const f of o.carried) lines.push(`    carried  ${f}`);
    if (o.created) continue; // nothing of the release to compare with
    if (o.runPre === 'skipped') lines.push('    run-pre  SKIPPED');
    else {
      const matched = o.runPre.filter((c) => c.result === 'matched');
      const relocs = matched.reduce((n, c) => n + c.relocations.symbol + c.relocations.string + c.relocations.section, 0);
      lines.push(`    run-pre  ${matched.length} function${matched.length === 1 ? '' : 's'} identical to ${target}'s (${relocs} relocated field${relocs === 1 ? '' : 's'} reaching the same entities)`);
    }
  }
  if (r.headers) {
    const h = r.headers;
    lines.push(
      `  headers  ${h.headers.join(', ')}: ${h.names} definition${h.names === 1 ? '' : 's'} followed; ${h.considered} source${h.considered === 1 ? '' : 's'} considered, ${h.compiled.length} built unit${h.compiled.length === 1 ? '' : 's'} compiled, ${(h.changed ?? []).length} changed (search ${formatDuration(h.timings.search)}, built units ${formatDuration(h.timings.built)})`,
    );
  }
  if (r.signature) lines.push(`  signed   by ${r.signature.subject} (key id ${r.signature.keyId ?? 'none'}, ${r.signature.digest}); checked against the certificate`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(`  stages: ${Object.entries(r.timings).map(([k, v]) => `${k} ${formatDuration(v)}`).join(', ')}`);
  return lines.join('\n') + '\n';
}

export interface BuildFlags {
  kernel?: string;
  output?: string;
  name?: string;
  description?: string;
  cve: string[];
  replace: boolean;
  json?: string;
  keepWorkdir?: boolean;
  skipRunPre?: boolean;
  signKey?: string;
  signCert?: string;
}

/** `rebootless build PATCH...`. */
export async function build(ctx: CliContext, setExit: SetExit, patches: string[], f: BuildFlags): Promise<void> {
  // an unreadable patch is refused before a kernel is fetched
  for (const p of patches) await readPatch(p);
  if (Boolean(f.signKey) !== Boolean(f.signCert)) throw new RebootlessError('USAGE', { detail: '--sign-key and --sign-cert go together: the key signs, the certificate says whose it is' });
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
      ...(f.skipRunPre ? { skipRunPre: true } : {}),
      ...(f.signKey && f.signCert ? { sign: { key: f.signKey, cert: f.signCert } } : {}),
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
}
