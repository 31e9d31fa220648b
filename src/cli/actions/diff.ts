import { diffObjects, type DiffResult, type FunctionDiff } from '../../diff/index.js';
import { EXIT, RebootlessError } from '../../errors/index.js';
import { readElfFileSync } from '../../elf/files.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';

/** Compiler-style lines: `fs/proc/meminfo.o: meminfo_proc_show: changed (first difference at +0x3a: ...)`. */
export function renderDiff(r: DiffResult): string {
  const lines: string[] = [];
  const fn = (f: FunctionDiff): string => {
    let s = `${r.file}: ${f.name}: ${f.status}`;
    if (f.twin) s += ` (was ${f.twin})`;
    if (f.aliases?.length) s += ` (also ${f.aliases.join(', ')})`;
    const notes: string[] = [];
    if (f.because) notes.push(f.because);
    if (f.firstDifference) {
      const d = f.firstDifference;
      notes.push(`first difference at +0x${d.offset.toString(16)}: ${d.orig ?? '(end)'} → ${d.patched ?? '(end)'}`);
    }
    if (f.include === 'carry' && f.status === 'changed') notes.push('carried along, not redirected');
    if (notes.length) s += ` (${notes.join('; ')})`;
    for (const c of f.newCallees ?? []) s += `\n  +0x${c.offset.toString(16)}: new call to ${c.callee}`;
    for (const c of f.removedCallees ?? []) s += `\n  call to ${c.callee} removed (was at +0x${c.offset.toString(16)})`;
    return s;
  };
  for (const f of r.functions) if (f.status !== 'same') lines.push(fn(f));
  for (const d of r.data) if (d.status !== 'same' && !d.special) lines.push(`${r.file}: ${d.name}: data ${d.status}`);
  for (const x of r.refusals) {
    lines.push(`${r.file}: ${x.symbol}: error: ${x.reason} [${x.code}]\n  hint: ${x.hint}`);
  }
  for (const w of r.warnings) lines.push(`${r.file}: warning: ${w}`);
  lines.push(
    r.verdict === 'patchable'
      ? `${r.file}: patchable: ${r.functions.filter((f) => f.include === 'patch').length} function(s) to patch, ${r.functions.filter((f) => f.include === 'carry').length} carried`
      : r.verdict === 'no-change'
        ? `${r.file}: no functional change`
        : `${r.file}: cannot be live patched (${r.refusals.length} reason${r.refusals.length === 1 ? '' : 's'})`,
  );
  return lines.join('\n') + '\n';
}

export function exitFor(r: Pick<DiffResult, 'verdict'>): number {
  return r.verdict === 'patchable' ? EXIT.ok : r.verdict === 'no-change' ? EXIT.noChange : EXIT.unpatchable;
}

const SEVERITY: Record<DiffResult['verdict'], number> = { patchable: 0, 'no-change': 1, unpatchable: 2 };

/** Of two verdicts, the worse (unpatchable, then no change, then patchable): several pairs exit with the worst. */
const worse = (a: DiffResult['verdict'], b: DiffResult['verdict']): DiffResult['verdict'] => (SEVERITY[b] > SEVERITY[a] ? b : a);

export interface DiffFlags {
  module?: boolean;
  json?: boolean;
}

/** `rebootless diff ORIG PATCHED [ORIG PATCHED ...]`: each pair in turn, in this one process. */
export async function diff(ctx: CliContext, setExit: SetExit, paths: string[], opts: DiffFlags): Promise<void> {
  if (paths.length % 2 !== 0) throw new RebootlessError('USAGE', { detail: `objects come in pairs, ORIG PATCHED: ${paths.at(-1)} has no patched twin` });
  // kept for --json only: a text run holds one pair's result at a time
  const results: DiffResult[] = [];
  let verdict: DiffResult['verdict'] = 'patchable';
  for (let i = 0; i < paths.length; i += 2) {
    // read without yielding: there is nothing else to do meanwhile
    const r = diffObjects(readElfFileSync(paths[i] as string), readElfFileSync(paths[i + 1] as string), { ...(opts.module ? { module: true } : {}) });
    verdict = worse(verdict, r.verdict);
    if (opts.json) results.push(r);
    else ctx.io.stdout.write(renderDiff(r));
  }
  if (opts.json) printJson(ctx.io.stdout, results.length === 1 ? results[0] : { diffs: results });
  setExit(exitFor({ verdict }));
}
