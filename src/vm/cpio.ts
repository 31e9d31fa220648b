import { createReadStream } from 'node:fs';
import { promises as fsp } from 'node:fs';

// The "newc" cpio format the kernel unpacks as an initramfs. Written by hand:
// it is a 110-byte ASCII header per entry, and streaming host files straight
// into the archive avoids staging a 100 MB directory tree for every VM.

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; mode: number; data: Uint8Array }
  | { kind: 'hostfile'; path: string; mode: number; source: string; size: number }
  | { kind: 'symlink'; path: string; target: string };

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** One newc header plus the padded name. */
export function cpioHeader(name: string, mode: number, size: number, ino: number): Buffer {
  const nameBytes = Buffer.from(name + '\0', 'utf8');
  const fields = [ino, mode, 0, 0, (mode & S_IFDIR) === S_IFDIR ? 2 : 1, 0, size, 0, 0, 0, 0, nameBytes.length, 0];
  const head = Buffer.from('070701' + fields.map(hex8).join(''), 'ascii');
  return Buffer.concat([head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length))]);
}

function entryMode(e: CpioEntry): number {
  switch (e.kind) {
    case 'dir':
      return S_IFDIR | (e.mode ?? 0o755);
    case 'symlink':
      return S_IFLNK | 0o777;
    default:
      return S_IFREG | (e.mode & 0o7777);
  }
}

/** Archive path: no leading slash, as the kernel's unpacker expects. */
export const archiveName = (p: string): string => p.replace(/^\/+/, '');

/** Writes the entries (in order) and the trailer to `file`. */
export async function writeCpio(file: string, entries: readonly CpioEntry[]): Promise<void> {
  const fh = await fsp.open(file, 'w');
  try {
    let ino = 1;
    const write = async (b: Uint8Array): Promise<void> => {
      await fh.write(b);
    };
    for (const e of entries) {
      const mode = entryMode(e);
      const name = archiveName(e.path);
      if (e.kind === 'dir') {
        await write(cpioHeader(name, mode, 0, ino++));
      } else if (e.kind === 'symlink') {
        const t = Buffer.from(e.target, 'utf8');
        await write(cpioHeader(name, mode, t.length, ino++));
        await write(Buffer.concat([t, Buffer.alloc(pad4(t.length))]));
      } else if (e.kind === 'file') {
        await write(cpioHeader(name, mode, e.data.length, ino++));
        await write(Buffer.concat([e.data, Buffer.alloc(pad4(e.data.length))]));
      } else {
        await write(cpioHeader(name, mode, e.size, ino++));
        let n = 0;
        for await (const chunk of createReadStream(e.source, { highWaterMark: 1 << 20 })) {
          n += (chunk as Buffer).length;
          await write(chunk as Buffer);
        }
        if (n !== e.size) throw new Error(`${e.source} changed size while being archived`);
        await write(Buffer.alloc(pad4(e.size)));
      }
    }
    await write(cpioHeader('TRAILER!!!', 0, 0, 0));
  } finally {
    await fh.close();
  }
}
