import { RebootlessError } from '../errors/index.js';

// String tables: NUL-terminated names addressed by byte offset.

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/**
 * A string table being read. Lookups scan for the terminating NUL; after a
 * few dozen lookups the table indexes every NUL once, so a hostile file
 * (thousands of names pointing into one long unterminated run) costs linear,
 * not quadratic, time.
 */
export class StringTable {
  private lookups = 0;
  private nulAt: Int32Array | undefined;

  constructor(
    readonly file: string,
    readonly section: string,
    readonly data: Uint8Array,
  ) {}

  private end(offset: number): number {
    if (this.nulAt) return this.nulAt[offset] as number;
    if (++this.lookups > 32) {
      const ends = new Int32Array(this.data.length);
      let next = -1;
      for (let i = this.data.length - 1; i >= 0; i--) {
        if (this.data[i] === 0) next = i;
        ends[i] = next;
      }
      this.nulAt = ends;
      return ends[offset] as number;
    }
    return this.data.indexOf(0, offset);
  }

  /** The name at `offset`; names are decoded as UTF-8. */
  name(offset: number, what: string): string {
    const { data } = this;
    if (offset >= data.length) {
      if (offset === 0) return ''; // an empty table names nothing
      throw new RebootlessError(
        'ELF_OUT_OF_RANGE',
        { file: this.file, what: `${what} name offset`, value: String(offset), limit: `size of ${this.section} (${data.length})` },
        { location: { file: this.file, section: this.section, offset } },
      );
    }
    const end = this.end(offset);
    if (end < 0) {
      throw new RebootlessError(
        'ELF_MALFORMED',
        { file: this.file, detail: `${what} name at offset ${offset} of ${this.section} is not NUL-terminated` },
        { location: { file: this.file, section: this.section, offset } },
      );
    }
    return decodeName(data, offset, end);
  }
}

/**
 * ASCII names (nearly all of them) skip the UTF-8 decoder. fromCharCode over
 * the whole run makes one flat string (appending a character at a time would
 * leave a rope of small strings behind every name).
 */
export function decodeName(data: Uint8Array, start: number, end: number): string {
  if (end - start <= 256) {
    for (let i = start; i < end; i++) if ((data[i] as number) >= 0x80) return utf8.decode(data.subarray(start, end));
    return String.fromCharCode.apply(null, data.subarray(start, end) as unknown as number[]);
  }
  return utf8.decode(data.subarray(start, end));
}

export function encodeName(name: string): Uint8Array {
  return encoder.encode(name);
}

/** True when `name` sits NUL-terminated at `offset` of `data`. */
export function hasNameAt(data: Uint8Array, offset: number, name: string): boolean {
  if (offset < 0 || offset >= data.length) return false;
  let i = offset;
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c >= 0x80) {
      const bytes = encodeName(name);
      if (offset + bytes.length >= data.length) return false;
      for (let j = 0; j < bytes.length; j++) if (data[offset + j] !== bytes[j]) return false;
      return data[offset + bytes.length] === 0;
    }
    if (data[i] !== c) return false;
    i++;
  }
  return i < data.length && data[i] === 0;
}

export interface BuiltStringTable {
  data: Uint8Array;
  offsetOf: Map<string, number>;
}

/**
 * A fresh string table holding each name once; a name that is the tail of a
 * longer one (".text" in ".rela.text") points into it, as the GNU tools do.
 */
export function buildStringTable(names: Iterable<string>): BuiltStringTable {
  const unique = [...new Set(names)].filter((n) => n !== '');
  const encoded = new Map(unique.map((n) => [n, encodeName(n)] as const));
  // Sorting by reversed bytes puts every name right before the names it is a tail of.
  const reversedKey = (n: string): string => {
    const b = encoded.get(n) as Uint8Array;
    let s = '';
    for (let i = b.length - 1; i >= 0; i--) s += String.fromCharCode(b[i] as number);
    return s;
  };
  const keyed = unique.map((n) => ({ n, k: reversedKey(n) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const offsetOf = new Map<string, number>([['', 0]]);
  const chunks: Uint8Array[] = [new Uint8Array(1)];
  let size = 1;
  // Walk from the end: a name whose reversed form prefixes the previous placed one is its tail.
  let prev: { k: string; offset: number; length: number } | undefined;
  const placed: { n: string; offset: number }[] = [];
  for (let i = keyed.length - 1; i >= 0; i--) {
    const { n, k } = keyed[i] as { n: string; k: string };
    const bytes = encoded.get(n) as Uint8Array;
    if (prev && prev.k.startsWith(k)) {
      placed.push({ n, offset: prev.offset + prev.length - bytes.length });
      continue;
    }
    placed.push({ n, offset: size });
    prev = { k, offset: size, length: bytes.length };
    chunks.push(bytes, new Uint8Array(1));
    size += bytes.length + 1;
  }
  for (const p of placed) offsetOf.set(p.n, p.offset);
  const data = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { data, offsetOf };
}
