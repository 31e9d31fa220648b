import { formatLocation, isRebootlessError, type RebootlessError } from '../errors/index.js';

/** JSON text of a result (bigints as decimal strings). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}

export function printJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(toJson(value));
}

export function paint(color: boolean, code: string, text: string): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** A fixed-width text table; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

export function renderError(e: RebootlessError): string {
  return `rebootless: error: ${formatLocation(e.location)}${e.message}\n  hint: ${e.hint}\n`;
}

/** Writes an error for a human (stderr) or a program (--json: stdout), returns the exit code. */
export function reportError(e: unknown, json: boolean, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): number {
  if (isRebootlessError(e)) {
    if (json) printJson(io.stdout, { error: e.toJSON() });
    else io.stderr.write(renderError(e));
    return e.exitCode;
  }
  // An error without a code is a bug in rebootless: show everything.
  const err = e instanceof Error ? e : new Error(String(e));
  if (json) printJson(io.stdout, { error: { code: 'INTERNAL', message: err.message, stack: err.stack, exitCode: 70 } });
  io.stderr.write(`rebootless: internal error (this is a bug): ${err.stack ?? err.message}\n`);
  return 70;
}
