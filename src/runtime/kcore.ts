import { open } from 'node:fs/promises';
import { RebootlessError } from '../errors/index.js';

// Reading the running kernel's memory through /proc/kcore: an ELF core file
// whose PT_LOAD segments map kernel virtual addresses to file offsets. Only
// the headers and the few ranges asked for are read.

interface Segment {
  vaddr: bigint;
  offset: bigint;
  size: bigint;
}

const PT_LOAD = 1;

export interface KernelMemory {
  read(address: bigint, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openKernelMemory(file: string): Promise<KernelMemory> {
  const fh = await open(file, 'r').catch((e: unknown) => {
    throw new RebootlessError('LIVE_CODE_UNREADABLE', { path: file, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
  });
  const readAt = async (offset: bigint, length: number): Promise<Uint8Array> => {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, Number(offset) + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  };
  try {
    const head = await readAt(0n, 64);
    const v = new DataView(head.buffer, head.byteOffset, head.length);
    if (head.length < 64 || v.getUint32(0) !== 0x7f454c46 || head[4] !== 2) throw new Error('not a 64-bit ELF core file');
    const phoff = v.getBigUint64(0x20, true);
    const phentsize = v.getUint16(0x36, true);
    const phnum = v.getUint16(0x38, true);
    const table = await readAt(phoff, phentsize * phnum);
    const segments: Segment[] = [];
    for (let i = 0; i < phnum; i++) {
      const p = new DataView(table.buffer, table.byteOffset + i * phentsize, phentsize);
      if (p.getUint32(0, true) !== PT_LOAD) continue;
      segments.push({ offset: p.getBigUint64(0x08, true), vaddr: p.getBigUint64(0x10, true), size: p.getBigUint64(0x20, true) });
    }
    return {
      async read(address, length) {
        const s = segments.find((x) => address >= x.vaddr && address + BigInt(length) <= x.vaddr + x.size);
        if (!s) throw new RebootlessError('LIVE_CODE_UNREADABLE', { path: file, reason: `no segment maps 0x${address.toString(16)}` });
        const bytes = await readAt(s.offset + (address - s.vaddr), length);
        if (bytes.length !== length) throw new RebootlessError('LIVE_CODE_UNREADABLE', { path: file, reason: `short read at 0x${address.toString(16)}` });
        return bytes;
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    if (e instanceof RebootlessError) throw e;
    throw new RebootlessError('LIVE_CODE_UNREADABLE', { path: file, reason: e instanceof Error ? e.message : String(e) });
  }
}
