import { RebootlessError } from '../errors/index.js';

// The bytes of an ELF file as the parser sees them: the whole file, or only
// the pieces a partial reader loaded (a 600 MB vmlinux is never read whole).
// Every access names what it reads, so a short file fails with a typed error
// instead of a RangeError.

export interface ElfImage {
  /** Name for error messages (usually the path). */
  readonly file: string;
  /** Size of the whole file, loaded or not. */
  readonly size: number;
  /** `length` bytes at `offset`, without copying. */
  bytes(offset: number, length: number, what: string, section?: string): Uint8Array;
  /** True when every byte of the range is available. */
  has(offset: number, length: number): boolean;
}

function checkRange(file: string, size: number, offset: number, length: number, what: string, section?: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RebootlessError(
      'ELF_TRUNCATED',
      { file, what, offset, length, fileSize: size },
      { location: { file, ...(section !== undefined ? { section } : {}), offset } },
    );
  }
}

/** The whole file in memory. */
export function wholeImage(bytes: Uint8Array, file: string): ElfImage {
  // A plain Uint8Array view: a Node Buffer's slice() would share memory, a trap for every caller.
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    file,
    size: data.length,
    bytes(offset, length, what, section) {
      checkRange(file, data.length, offset, length, what, section);
      return data.subarray(offset, offset + length);
    },
    has: (offset, length) => offset >= 0 && length >= 0 && offset + length <= data.length,
  };
}

export interface LoadedRange {
  offset: number;
  data: Uint8Array;
}

/** Some ranges of a larger file; reading outside them is a caller's error. */
export function sparseImage(loaded: readonly LoadedRange[], size: number, file: string): ElfImage {
  const ranges = loaded.map((r) => ({ offset: r.offset, data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength) }));
  const find = (offset: number, length: number): LoadedRange | undefined =>
    ranges.find((r) => offset >= r.offset && offset + length <= r.offset + r.data.length);
  return {
    file,
    size,
    bytes(offset, length, what, section) {
      checkRange(file, size, offset, length, what, section);
      const r = find(offset, length);
      if (!r) {
        throw new RebootlessError(
          'ELF_MODEL_INVALID',
          { file, detail: `${what} was not loaded by the partial reader (read the whole file for it)` },
          { location: { file, ...(section !== undefined ? { section } : {}), offset } },
        );
      }
      return r.data.subarray(offset - r.offset, offset - r.offset + length);
    },
    has: (offset, length) => length === 0 || find(offset, length) !== undefined,
  };
}

/** Little-endian field access on a Uint8Array that the caller has sized already. */
export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
