import { RebootlessError } from '../../errors/index.js';

// Option values checked when the command runs (not while parsing: the checks
// report RebootlessErrors, and registration must not load the error catalog).

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration: "60s", "2m", "500ms", "1h" or plain seconds ("90"). */
export function parseDuration(text: string, option = '--timeout'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0) throw new RebootlessError('USAGE', { detail: `${option} wants a positive duration like 60s, 2m or 500ms, not '${text}'` });
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}

/** A positive number (`--memory 512`, `--timeout 30s`); undefined when the option was not given. */
export function positiveNumber(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/s$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new RebootlessError('USAGE', { detail: `${flag} expects a positive number, got '${v}'` });
  return n;
}
