import { SHT_NOBITS } from './constants.js';
import type { ElfImage } from './image.js';

// The ELF model: sections, symbols and relocations linked to each other by
// reference, not by index (a relocation knows its symbol, a relocation section
// its base section, a symbol its section). Indices are recomputed by the
// writer, so sections and symbols can be added, removed and reordered freely.
//
// Numbers: addresses, symbol values and relocation offsets/addends are bigint
// (kernel addresses exceed 2^53; addends are signed). File offsets and sizes
// are numbers: the parser checks them against the file length (and NOBITS
// sizes against 2^53), so they are always exact.

export interface ElfHeader {
  /** All of e_ident, kept so that OS ABI, ABI version and padding survive a round trip. */
  ident: Uint8Array;
  type: number;
  machine: number;
  version: number;
  entry: bigint;
  phoff: bigint;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
}

export interface ElfSymbol {
  /** Position in its symbol table when parsed or last renumbered; the writer does not read it. */
  index: number;
  name: string;
  value: bigint;
  size: number;
  /** STB_* */
  bind: number;
  /** STT_* */
  type: number;
  /** st_other (visibility in the low two bits). */
  other: number;
  /** The section the symbol is defined in, or null for UND/ABS/COMMON/LIVEPATCH and other reserved indices. */
  section: ElfSection | null;
  /** st_shndx as read: the reserved index when `section` is null (SHN_UNDEF, SHN_ABS, SHN_LIVEPATCH ...). */
  shndx: number;
  /** st_name as read; lets the writer keep the original string table when no name changed. */
  nameOffset?: number;
}

export interface ElfRela {
  /** r_offset: an offset in the base section (ET_REL) or an address (ET_EXEC). */
  offset: bigint;
  /** R_X86_64_* */
  type: number;
  /** The symbol table's entry 0 when the relocation has no symbol. */
  symbol: ElfSymbol;
  /** Signed; 0n for SHT_REL entries. */
  addend: bigint;
}

export interface ElfGroup {
  /** GRP_COMDAT and friends. */
  flags: number;
  /** sh_info: the symbol whose name is the group's signature. */
  signature: ElfSymbol;
  members: ElfSection[];
}

/** Where a section was in the file it was parsed from. */
export interface ElfOrigin {
  image: ElfImage;
  index: number;
  offset: number;
  size: number;
}

export interface SectionInit {
  name: string;
  type: number;
  flags?: bigint;
  addr?: bigint;
  addralign?: number;
  entsize?: number;
  /** Contents; for SHT_NOBITS give `size` instead. */
  data?: Uint8Array;
  size?: number;
}

export class ElfSection {
  /** Position in the section header table when parsed or last renumbered; the writer does not read it. */
  index = 0;
  name: string;
  /** SHT_* */
  type: number;
  /** SHF_* (a 64-bit field). */
  flags: bigint;
  addr: bigint;
  addralign: number;
  entsize: number;
  /** sh_link as a section: the string table of a symbol table, the symbol table of a relocation or group section, the SHF_LINK_ORDER target. */
  link: ElfSection | null = null;
  /** sh_info as a section: what a relocation section (or any SHF_INFO_LINK section) applies to. */
  base: ElfSection | null = null;
  /** sh_info as a plain number, for sections where it names neither a section nor a symbol. */
  info = 0;
  /** SHT_SYMTAB/SHT_DYNSYM: the entries, entry 0 (the null symbol) included. */
  symbols?: ElfSymbol[];
  /** SHT_RELA/SHT_REL: the entries, in file order. */
  relas?: ElfRela[];
  /** SHT_GROUP: flags, signature and members. */
  group?: ElfGroup;
  /** sh_name as read; lets the writer keep the original section name table. */
  nameOffset?: number;
  origin?: ElfOrigin;
  /**
   * Bytes in the file, or the memory size of a SHT_NOBITS section. Follows
   * `data` when it is set; for symbol, relocation and group sections it is the
   * size as parsed until the writer regenerates them.
   */
  size: number;
  #data: Uint8Array | undefined;
  #load: (() => Uint8Array) | undefined;

  constructor(init: SectionInit, load?: () => Uint8Array) {
    this.name = init.name;
    this.type = init.type;
    this.flags = init.flags ?? 0n;
    this.addr = init.addr ?? 0n;
    this.addralign = init.addralign ?? 1;
    this.entsize = init.entsize ?? 0;
    this.#data = init.data;
    this.#load = load;
    this.size = init.data ? init.data.length : (init.size ?? 0);
  }

  /**
   * The contents, read from the file on first use (a view, not a copy). For
   * symbol, relocation and group sections these are the bytes as parsed: the
   * writer regenerates them from `symbols`, `relas` and `group`.
   */
  get data(): Uint8Array {
    if (this.#data === undefined) {
      this.#data = this.#load ? this.#load() : new Uint8Array(0);
      this.#load = undefined;
    }
    return this.#data;
  }

  set data(bytes: Uint8Array) {
    this.#data = bytes;
    this.#load = undefined;
    if (this.type !== SHT_NOBITS) this.size = bytes.length;
  }
}

export interface ElfFile {
  /** Name used in messages (the path, or a label for in-memory data). */
  file: string;
  header: ElfHeader;
  /** Every section header, entry 0 (SHT_NULL) included. */
  sections: ElfSection[];
  /** The section name string table (e_shstrndx), if any. */
  shstrtab: ElfSection | null;
  /** The file this model was parsed from: the writer reuses its layout when nothing moved. */
  origin?: { image: ElfImage; shoff: number; shnum: number; partial: boolean };
}
