import { SHF_ALLOC, SHT_NOBITS, STT_FILE, STT_SECTION } from '../../elf/constants.js';
import type { ElfSection, ElfSymbol } from '../../elf/model.js';

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
  let byName: Map<string, ElfSymbol[]> | undefined;
  let sorted: ElfSymbol[] | undefined;
  const byValue = (a: ElfSymbol, b: ElfSymbol): number => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
  // by name: one pass, each repeated name's few symbols put in address order
  const names = (): Map<string, ElfSymbol[]> => {
    if (!byName) {
      byName = new Map();
      for (const s of symbols) {
        if (!named(s)) continue;
        const list = byName.get(s.name);
        if (list) list.push(s);
        else byName.set(s.name, [s]);
      }
      for (const list of byName.values()) if (list.length > 1) list.sort(byValue);
    }
    return byName;
  };
  // by address: only to name the place a mismatch reaches (a sort of every symbol)
  const addresses = (): ElfSymbol[] => (sorted ??= symbols.filter(named).sort(byValue));
  const alloc = sections.filter((s) => (s.flags & SHF_ALLOC) !== 0n && s.size > 0);
  const sectionAt = (address: bigint): ElfSection | undefined => alloc.find((s) => address >= s.addr && address < s.addr + BigInt(s.size));
  return {
    symbolsNamed: (name) => names().get(name) ?? [],
    symbolsAt(address) {
      const list = addresses();
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((list[mid] as ElfSymbol).value <= address) lo = mid + 1;
        else hi = mid;
      }
      const out: ElfSymbol[] = [];
      // symbols nest rarely and shallowly: a short scan back finds those covering it
      for (let i = lo - 1; i >= 0 && i >= lo - 64; i--) {
        const s = list[i] as ElfSymbol;
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
