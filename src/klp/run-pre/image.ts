import { SHF_ALLOC, SHT_NOBITS, STT_FILE, STT_SECTION } from '../../elf/constants.js';
import type { ElfSection, ElfSymbol } from '../../elf/model.js';
import { byValue, symbolsByAddress, symbolsOfName, upperBoundByValue } from '../../elf/symbol-order.js';

// The release's vmlinux as run-pre reads it: a linked image whose symbols
// have addresses, and whose bytes are read on demand (it is hundreds of MB;
// a build reads a few functions and strings of it).

export interface LinkedImage {
  /** Symbols of a name, in address order (kallsyms order: a local's sympos is its 1-based position here). */
  symbolsNamed(name: string): readonly ElfSymbol[];
  /** Every named symbol covering `address` (sized ones that contain it, and labels exactly there). */
  symbolsAt(address: bigint): readonly ElfSymbol[];
  /** The allocated section holding `address`. */
  sectionAt(address: bigint): ElfSection | undefined;
  /** `length` bytes at `address` (clipped at the end of its section). */
  read(address: bigint, length: number): Promise<Uint8Array>;
}


/** An image over vmlinux's symbol table and a positioned reader of its sections. */
export function linkedImage(symbols: readonly ElfSymbol[], sections: readonly ElfSection[], readSection: (s: ElfSection, offset: number, length: number) => Promise<Uint8Array>): LinkedImage {
  const allocated = new Set(sections.filter((s) => (s.flags & SHF_ALLOC) !== 0n));
  const named = (s: ElfSymbol): boolean => s.name !== '' && s.type !== STT_SECTION && s.type !== STT_FILE && s.section !== null && allocated.has(s.section);
  const byName = new Map<string, readonly ElfSymbol[]>();
  // a repeated name's few symbols put in address order (a stable sort)
  const names = (name: string): readonly ElfSymbol[] => {
    let list = byName.get(name);
    if (!list) byName.set(name, (list = symbolsOfName(symbols, name).filter(named).sort(byValue)));
    return list;
  };
  const alloc = sections.filter((s) => (s.flags & SHF_ALLOC) !== 0n && s.size > 0);
  const sectionAt = (address: bigint): ElfSection | undefined => alloc.find((s) => address >= s.addr && address < s.addr + BigInt(s.size));
  return {
    symbolsNamed: names,
    symbolsAt(address) {
      const list = symbolsByAddress(symbols);
      const lo = upperBoundByValue(list, address);
      const out: ElfSymbol[] = [];
      // symbols nest rarely and shallowly: a short scan back finds those covering it
      for (let i = lo - 1, seen = 0; i >= 0 && seen < 64 && lo - i < 1024; i--) {
        const s = list[i] as ElfSymbol;
        if (!named(s)) continue;
        seen++;
        if (s.value === address || address < s.value + BigInt(s.size)) out.push(s);
      }
      return out;
    },
    sectionAt,
    async read(address, length) {
      const sec = sectionAt(address);
      if (!sec || sec.type === SHT_NOBITS) return new Uint8Array(0);
      const offset = Number(address - sec.addr);
      return readSection(sec, offset, Math.min(length, sec.size - offset));
    },
  };
}
