// Finding kernel trouble in console text. Pure: the VM feeds it lines, tests
// feed it recorded consoles.

import { RebootlessError } from '../errors/index.js';

export type TroubleKind = 'panic' | 'oops' | 'bug' | 'warning' | 'call-trace' | 'livepatch' | 'hung-task';

export interface Trouble {
  kind: TroubleKind;
  /** 0-based line number in the scanned text */
  line: number;
  text: string;
}

const PATTERNS: [TroubleKind, RegExp][] = [
  ['panic', /Kernel panic - not syncing/],
  ['oops', /\bOops\b|general protection fault|Unable to handle (kernel|page fault)|BUG: unable to handle/],
  ['bug', /\bBUG: |kernel BUG at /],
  ['warning', /\bWARNING: /],
  ['hung-task', /INFO: task .* blocked for more than|rcu: INFO: rcu_\w+ detected stalls/],
  ['livepatch', /livepatch: .*(fail|error|unable|not supported|reliable stacktrace|invalid)/i],
  ['call-trace', /Call Trace:/],
];

/** How many lines before a Call Trace may hold the headline it belongs to. */
const TRACE_WINDOW = 40;

export class ConsoleScanner {
  private readonly lines: string[] = [];
  private pending = '';
  readonly found: Trouble[] = [];

  /** Feeds console text in any chunks; returns what the complete lines added. */
  push(chunk: string): Trouble[] {
    this.pending += chunk;
    const parts = this.pending.split(/\r?\n/);
    this.pending = parts.pop() ?? '';
    const added: Trouble[] = [];
    for (const raw of parts) added.push(...this.scanLine(raw.replace(/\r/g, '')));
    return added;
  }

  /** Flushes a last line without newline. */
  end(): Trouble[] {
    if (!this.pending) return [];
    const last = this.pending;
    this.pending = '';
    return this.scanLine(last);
  }

  text(): string {
    return this.lines.join('\n') + (this.pending ? `\n${this.pending}` : '');
  }

  private scanLine(line: string): Trouble[] {
    const n = this.lines.length;
    this.lines.push(line);
    const out: Trouble[] = [];
    for (const [kind, re] of PATTERNS) {
      if (!re.test(line)) continue;
      // a Call Trace under a headline we already have is part of that report
      if (kind === 'call-trace' && this.found.some((f) => f.kind !== 'call-trace' && n - f.line <= TRACE_WINDOW)) break;
      const t = { kind, line: n, text: line.trim() };
      this.found.push(t);
      out.push(t);
      break;
    }
    return out;
  }

  /** Console lines around the first of the given troubles. */
  excerpt(troubles: readonly Trouble[], before = 3, after = 25): string {
    const first = troubles[0];
    if (!first) return '';
    const all = this.text().split('\n');
    return all.slice(Math.max(0, first.line - before), first.line + after).join('\n');
  }

  tail(n = 15): string {
    return this.text().split('\n').filter(Boolean).slice(-n).join('\n');
  }
}

/** Scans a whole text at once. */
export function scanConsole(text: string): Trouble[] {
  const s = new ConsoleScanner();
  s.push(text);
  s.end();
  return s.found;
}

/** The error for kernel trouble: its kinds, once each, and the console excerpt that shows it. */
export function troubleError(trouble: readonly Trouble[], excerpt = trouble.map((t) => t.text).join('\n')): RebootlessError {
  return new RebootlessError('VM_KERNEL_TROUBLE', { kinds: [...new Set(trouble.map((t) => t.kind))], excerpt });
}
