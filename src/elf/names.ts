import {
  SHF_MASKOS,
  SHN_ABS,
  SHN_COMMON,
  SHN_HIOS,
  SHN_HIPROC,
  SHN_LOOS,
  SHN_LOPROC,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_HIPROC,
  SHT_LOOS,
  SHT_LOPROC,
  SHT_LOUSER,
} from './constants.js';

// Display names for ELF fields, as readelf shows them, so that `rebootless
// elf dump` reads like `readelf -W` and messages use the familiar words.

const ELF_TYPES: Record<number, string> = { 0: 'NONE', 1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE' };

/** e_type as readelf names it. */
export function elfTypeName(type: number): string {
  return ELF_TYPES[type] ?? `0x${type.toString(16)}`;
}

const SECTION_TYPES: Record<number, string> = {
  0: 'NULL',
  1: 'PROGBITS',
  2: 'SYMTAB',
  3: 'STRTAB',
  4: 'RELA',
  5: 'HASH',
  6: 'DYNAMIC',
  7: 'NOTE',
  8: 'NOBITS',
  9: 'REL',
  10: 'SHLIB',
  11: 'DYNSYM',
  14: 'INIT_ARRAY',
  15: 'FINI_ARRAY',
  16: 'PREINIT_ARRAY',
  17: 'GROUP',
  18: 'SYMTAB SECTION INDICES',
  19: 'RELR',
  0x6ffffff0: 'VERSYM',
  0x6ffffff5: 'GNU_ATTRIBUTES',
  0x6ffffff6: 'GNU_HASH',
  0x6ffffff7: 'GNU_LIBLIST',
  0x6ffffffd: 'VERDEF',
  0x6ffffffe: 'VERNEED',
  0x6fffffff: 'VERSYM',
  0x70000001: 'X86_64_UNWIND',
  0x7fffffff: 'FILTER',
};

const hexOrZero = (n: number): string => (n === 0 ? '0' : `0x${n.toString(16)}`);

export function sectionTypeName(type: number): string {
  const known = SECTION_TYPES[type];
  if (known) return known;
  if (type >= SHT_LOPROC && type <= SHT_HIPROC) return `LOPROC+${hexOrZero(type - SHT_LOPROC)}`;
  if (type >= SHT_LOOS && type < SHT_LOPROC) return `LOOS+${hexOrZero(type - SHT_LOOS)}`;
  if (type >= SHT_LOUSER) return `LOUSER+${hexOrZero(type - SHT_LOUSER)}`;
  return `${type.toString(16).padStart(8, '0')}: <unknown>`;
}

const FLAG_LETTERS: Record<number, string> = { 0: 'W', 1: 'A', 2: 'X', 4: 'M', 5: 'S', 6: 'I', 7: 'L', 8: 'O', 9: 'G', 10: 'T', 11: 'C', 24: 'D', 28: 'l', 31: 'E' };

/**
 * The Flg column of readelf -S (x86-64): a letter per flag from the lowest bit
 * up; the OS-specific bits show as one 'o', unknown processor bits as one 'p'
 * (which ends the list, as in readelf).
 */
export function sectionFlagsString(flags: bigint): string {
  let out = '';
  let osShown = false;
  for (let bit = 0; bit < 64; bit++) {
    const mask = 1n << BigInt(bit);
    if ((flags & mask) === 0n) continue;
    const letter = FLAG_LETTERS[bit];
    const os = (mask & SHF_MASKOS) !== 0n;
    if (letter) {
      if (!(os && osShown)) out += letter;
    } else if (os) {
      if (!osShown) out += 'o';
      osShown = true;
    } else if (bit >= 28 && bit < 32) {
      return out + 'p';
    } else {
      out += 'x';
    }
  }
  return out;
}

const ELFOSABI_GNU = 3;
const ELFOSABI_FREEBSD = 9;

export function symbolTypeName(type: number, osabi = 0): string {
  const known = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS', undefined, 'RELC', 'SRELC'][type];
  if (known) return known;
  if (type === 10 && (osabi === ELFOSABI_GNU || osabi === ELFOSABI_FREEBSD)) return 'IFUNC';
  if (type >= 10 && type <= 12) return `<OS specific>: ${type}`;
  if (type >= 13) return `<processor specific>: ${type}`;
  return `<unknown>: ${type}`;
}

export function symbolBindName(bind: number, osabi = 0): string {
  const known = ['LOCAL', 'GLOBAL', 'WEAK'][bind];
  if (known) return known;
  if (bind === 10 && osabi === ELFOSABI_GNU) return 'UNIQUE';
  if (bind >= 10 && bind <= 12) return `<OS specific>: ${bind}`;
  if (bind >= 13) return `<processor specific>: ${bind}`;
  return `<unknown>: ${bind}`;
}

export function visibilityName(other: number): string {
  const vis = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'][other & 3] as string;
  const rest = other & ~3;
  return rest ? `${vis} [<other>: ${rest.toString(16)}]` : vis;
}

/** The Ndx column of readelf -s for a symbol without a section. */
export function reservedIndexName(shndx: number): string {
  if (shndx === SHN_UNDEF) return 'UND';
  if (shndx === SHN_ABS) return 'ABS';
  if (shndx === SHN_COMMON) return 'COM';
  if (shndx >= SHN_LOPROC && shndx <= SHN_HIPROC) return `PRC[0x${shndx.toString(16)}]`;
  if (shndx >= SHN_LOOS && shndx <= SHN_HIOS) return `OS [0x${shndx.toString(16)}]`;
  if (shndx >= SHN_LORESERVE) return `RSV[0x${shndx.toString(16)}]`;
  return String(shndx);
}
