import { catalog } from './catalog.js';
import type { ErrorCode, ErrorDataMap } from './codes.js';

/** Where in the user's input an error points. */
export interface ErrorLocation {
  file?: string;
  section?: string;
  symbol?: string;
  offset?: number;
}

export interface RebootlessErrorJson {
  code: ErrorCode;
  message: string;
  hint: string;
  exitCode: number;
  location?: ErrorLocation;
  data: unknown;
}

/**
 * The one error class of rebootless. Anything thrown that is not a
 * RebootlessError is a bug and is shown with its stack.
 */
export class RebootlessError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly data: ErrorDataMap[C];
  readonly location: ErrorLocation | undefined;

  constructor(code: C, data: ErrorDataMap[C], options: { location?: ErrorLocation; cause?: unknown } = {}) {
    super(catalog[code].message(data), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RebootlessError';
    this.code = code;
    this.data = data;
    this.location = options.location;
  }

  get hint(): string {
    return catalog[this.code].hint(this.data);
  }

  get exitCode(): number {
    return catalog[this.code].exitCode;
  }

  toJSON(): RebootlessErrorJson {
    const json: RebootlessErrorJson = {
      code: this.code,
      message: this.message,
      hint: this.hint,
      exitCode: this.exitCode,
      data: this.data,
    };
    if (this.location) json.location = this.location;
    return json;
  }
}

export function isRebootlessError(e: unknown): e is RebootlessError {
  return e instanceof RebootlessError;
}

/** Formats a location the way compilers do: `file: symbol+0x1a: `. */
export function formatLocation(loc: ErrorLocation | undefined): string {
  if (!loc) return '';
  const parts: string[] = [];
  if (loc.file) parts.push(loc.section ? `${loc.file}(${loc.section})` : loc.file);
  else if (loc.section) parts.push(loc.section);
  if (loc.symbol) parts.push(loc.offset !== undefined ? `${loc.symbol}+0x${loc.offset.toString(16)}` : loc.symbol);
  else if (loc.offset !== undefined) parts.push(`0x${loc.offset.toString(16)}`);
  return parts.length ? parts.join(': ') + ': ' : '';
}
