import { promises as fsp, readFileSync, statSync, type Stats } from 'node:fs';
import { RebootlessError } from '../errors/index.js';
import { ElfDiagnostics } from './diagnostics.js';
import { EHDR_SIZE, SHT_NOBITS } from './constants.js';
import { parseElfHeader } from './headers.js';
import { sparseImage } from './image.js';
import type { ElfFile, ElfHeader, ElfRela, ElfSection } from './model.js';
import { parseElf } from './parse.js';
import { isRelocationSection } from './predicates.js';
import { checkRelocationSection, parseRelocations, relocationEntrySize } from './relocations.js';
import { serializeElf, type SerializeOptions } from './serialize.js';
import { readElfPartial, type PartialReadOptions } from './symtab.js';
import { writeFileAtomic } from '../util/fs.js';

// The I/O shell around src/elf: read a file into the model, read only the
// symbol table of a big file (and stream its relocations), write a model
// through a temp file and a rename.

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error)) return String(e);
  return err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
}

function readFailed(path: string, e: unknown): RebootlessError {
  return new RebootlessError('FILE_READ_FAILED', { path, reason: reason(e) }, { cause: e });
}

/** Files above this size are not read whole by readElfFile: use readElfSymbols / openElfSymbols. */
export const MAX_WHOLE_FILE = 1024 * 1024 * 1024;

/** What a whole read accepts: a regular file, not too large to hold. */
function checkWholeRead(path: string, st: Stats): void {
  if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
  if (st.size > MAX_WHOLE_FILE) {
    throw new RebootlessError('ELF_TOO_LARGE', { file: path, what: 'file size for a whole read', value: String(st.size), limit: String(MAX_WHOLE_FILE) }, { location: { file: path } });
  }
}

/** Reads and parses a whole object, module or small executable. */
export async function readElfFile(path: string): Promise<ElfFile> {
  let data: Uint8Array;
  try {
    checkWholeRead(path, await fsp.stat(path));
    data = await fsp.readFile(path);
  } catch (e) {
    if (e instanceof RebootlessError) throw e;
    throw readFailed(path, e);
  }
  return parseElf(data, { file: path });
}

/**
 * readElfFile without yielding, for a caller with nothing to do meanwhile that reads file
 * after file (`rebootless diff` over many pairs): an asynchronous read waits for a turn of
 * the event loop at each of its steps.
 */
export function readElfFileSync(path: string): ElfFile {
  let data: Uint8Array;
  try {
    checkWholeRead(path, statSync(path));
    data = readFileSync(path);
  } catch (e) {
    if (e instanceof RebootlessError) throw e;
    throw readFailed(path, e);
  }
  return parseElf(data, { file: path });
}

/** The ELF header alone (64 bytes read), e.g. to refuse a vmlinux before reading it whole. */
export async function readElfHeader(path: string): Promise<ElfHeader> {
  let head: Uint8Array;
  let size: number;
  try {
    const fh = await fsp.open(path, 'r');
    try {
      size = (await fh.stat()).size;
      head = new Uint8Array(Math.min(EHDR_SIZE, size));
      await fh.read(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw readFailed(path, e);
  }
  return parseElfHeader(sparseImage([{ offset: 0, data: head }], size, path), new ElfDiagnostics(path)).header;
}

/** A file opened for partial reading: its model (header tables and symbol tables) and positioned reads of the rest. */
export interface OpenElf {
  file: ElfFile;
  /** The relocations of one relocation section, a chunk at a time (vmlinux carries millions). */
  relocations(section: ElfSection, chunkEntries?: number): AsyncGenerator<ElfRela[]>;
  /** `length` bytes of a section's contents from `offset` (e.g. one function of vmlinux's .text). */
  readSectionBytes(section: ElfSection, offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openElfSymbols(path: string, options: Pick<PartialReadOptions, 'include'> = {}): Promise<OpenElf> {
  let fh: fsp.FileHandle;
  let size: number;
  try {
    fh = await fsp.open(path, 'r');
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
    }
    size = st.size;
  } catch (e) {
    throw readFailed(path, e);
  }
  const read = async (offset: number, length: number): Promise<Uint8Array> => {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done).catch((e: unknown) => {
        throw readFailed(path, e);
      });
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buf : buf.subarray(0, done);
  };
  let file: ElfFile;
  try {
    file = await readElfPartial(read, { file: path, size, ...(options.include ? { include: options.include } : {}) });
  } catch (e) {
    await fh.close();
    throw e;
  }
  const diag = new ElfDiagnostics(path);
  return {
    file,
    async *relocations(section, chunkEntries = 65536) {
      if (!isRelocationSection(section.type)) return;
      if (section.relas) {
        yield section.relas;
        return;
      }
      const origin = section.origin;
      if (!origin) return;
      checkRelocationSection(section, origin.size, diag);
      const entsize = relocationEntrySize(section.type);
      const symbols = section.link?.symbols ?? null;
      const total = origin.size / entsize;
      for (let first = 0; first < total; first += chunkEntries) {
        const n = Math.min(chunkEntries, total - first);
        const data = await read(origin.offset + first * entsize, n * entsize);
        if (data.length !== n * entsize) throw diag.truncated(`relocations of ${section.name}`, origin.offset + first * entsize, n * entsize, size);
        yield parseRelocations(section, data, symbols, diag, first);
      }
    },
    async readSectionBytes(section, offset, length) {
      const origin = section.origin;
      if (!origin || section.type === SHT_NOBITS || offset < 0 || offset + length > origin.size) {
        throw diag.truncated(`${length} bytes at ${section.name}+0x${offset.toString(16)}`, (origin?.offset ?? 0) + offset, length, size);
      }
      const data = await read(origin.offset + offset, length);
      if (data.length !== length) throw diag.truncated(`${length} bytes at ${section.name}+0x${offset.toString(16)}`, origin.offset + offset, length, size);
      return data;
    },
    close: () => fh.close(),
  };
}

/**
 * Reads the ELF header, section headers, symbol tables and their string
 * tables (plus `include`d sections) with positioned reads; a 600 MB vmlinux
 * costs a few MB of I/O.
 */
export async function readElfSymbols(path: string, options: Pick<PartialReadOptions, 'include'> = {}): Promise<ElfFile> {
  const open = await openElfSymbols(path, options);
  await open.close();
  return open.file;
}

/** Serializes a model and writes it atomically (temp file + rename). */
export async function writeElfFile(path: string, file: ElfFile, options: SerializeOptions = {}): Promise<void> {
  await writeElfBytes(path, serializeElf(file, options));
}

/** Writes serialized bytes atomically; failures become FILE_WRITE_FAILED. */
export async function writeElfBytes(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new RebootlessError('FILE_WRITE_FAILED', { path, reason: reason(e) }, { cause: e });
  }
}
