import { cacheRoot } from '../../../kernel/cache.js';
import { headerUsers, type HeaderUsersReport } from '../../../kernel/header-users.js';
import { loadWorkspace } from '../../../kernel/workspace.js';
import type { CliContext, SetExit } from '../../context.js';
import { printJson } from '../../render.js';

export function renderUsers(release: string, r: HeaderUsersReport): string {
  if (!r.lineTables) return `${release}: vmlinux has no DWARF line tables (built without debug info): nothing to say about its units\n`;
  const lines: string[] = [];
  for (const f of r.files) {
    lines.push(`${f.file}: ${f.units.length} of vmlinux's ${r.units} units`);
    for (const u of f.units) lines.push(`  ${u}`);
  }
  return lines.join('\n') + '\n';
}

/** `rebootless kernel users RELEASE FILE...`. */
export async function kernelUsers(ctx: CliContext, setExit: SetExit, release: string, files: string[], opts: { json?: boolean }): Promise<void> {
  const ws = await loadWorkspace(cacheRoot(), release);
  const r = await headerUsers(ws, files);
  if (opts.json) printJson(ctx.io.stdout, { release: ws.release, ...r });
  else ctx.io.stdout.write(renderUsers(ws.release, r));
  setExit(r.lineTables ? 0 : 1);
}
