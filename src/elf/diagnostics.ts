import { RebootlessError, type ErrorLocation } from '../errors/index.js';

// Typed failures for one input file, each pointing at the section and file
// offset where the problem is.

export class ElfDiagnostics {
  constructor(readonly file: string) {}

  private loc(section?: string, offset?: number): { location: ErrorLocation } {
    const location: ErrorLocation = { file: this.file };
    if (section !== undefined) location.section = section;
    if (offset !== undefined && Number.isSafeInteger(offset)) location.offset = offset;
    return { location };
  }

  outOfRange(what: string, value: number | bigint, limit: number | bigint | string, section?: string, offset?: number): RebootlessError {
    return new RebootlessError('ELF_OUT_OF_RANGE', { file: this.file, what, value: String(value), limit: String(limit) }, this.loc(section, offset));
  }

  malformed(detail: string, section?: string, offset?: number): RebootlessError {
    return new RebootlessError('ELF_MALFORMED', { file: this.file, detail }, this.loc(section, offset));
  }

  tooLarge(what: string, value: number | bigint, limit: number | bigint, section?: string, offset?: number): RebootlessError {
    return new RebootlessError('ELF_TOO_LARGE', { file: this.file, what, value: String(value), limit: String(limit) }, this.loc(section, offset));
  }

  truncated(what: string, offset: number, length: number, fileSize: number, section?: string): RebootlessError {
    return new RebootlessError('ELF_TRUNCATED', { file: this.file, what, offset, length, fileSize }, this.loc(section, offset));
  }

  overlap(first: string, second: string, offset: number): RebootlessError {
    return new RebootlessError('ELF_OVERLAP', { file: this.file, first, second, offset }, this.loc(undefined, offset));
  }

  unsupported(field: string, value: string, expected: string): RebootlessError {
    return new RebootlessError('ELF_UNSUPPORTED', { file: this.file, field, value, expected }, this.loc());
  }

  notElf(): RebootlessError {
    return new RebootlessError('ELF_NOT_ELF', { file: this.file }, this.loc());
  }

  modelInvalid(detail: string, section?: string): RebootlessError {
    return new RebootlessError('ELF_MODEL_INVALID', { file: this.file, detail }, this.loc(section));
  }

  /** A u64 field as a number, or ELF_TOO_LARGE when it cannot be one exactly. */
  safe(value: bigint, what: string, section?: string, offset?: number): number {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.tooLarge(what, value, Number.MAX_SAFE_INTEGER, section, offset);
    return Number(value);
  }
}
