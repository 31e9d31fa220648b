import { predictPatch, type Prediction } from '../../runtime/predict.js';
import type { CliContext, SetExit } from '../context.js';
import { hostFromEnv } from '../live-host.js';
import { paint, printJson } from '../render.js';

export function renderPrediction(p: Prediction, color: boolean): string {
  const lines = [`${p.name} replaces ${p.functions.join(', ')}`, ...p.warnings.map((w) => `warning: ${w}`), `running code: ${p.liveCode.note}`, `verdict: ${p.summary}`];
  for (const b of p.blockers) {
    lines.push(`  ${paint(color, '1', `${b.pid}${b.tid !== b.pid ? `/${b.tid}` : ''} ${b.comm}`)} (state ${b.state}${b.kthread ? ', kernel thread' : ''}): ${b.outlook}`);
    for (const f of b.stack) lines.push(b.frames.includes(f) ? `      ${paint(color, '31;1', f)}  <- replaced function` : `      ${f}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `rebootless predict MODULE.ko`. */
export async function predict(ctx: CliContext, setExit: SetExit, ko: string, f: { json?: boolean }): Promise<void> {
  const p = await predictPatch(hostFromEnv(), ko);
  if (f.json) printJson(ctx.io.stdout, p);
  else ctx.io.stdout.write(renderPrediction(p, ctx.color));
  setExit(0);
}
