import * as C from '../../elf/constants.js';
import type { ElfRela } from '../../elf/model.js';

// x86-64 relocation types: the name readelf shows, how many bytes the
// relocation patches, and whether the value is relative to the place patched.

export interface RelocationType {
  type: number;
  name: string;
  /** Bytes written at r_offset (0 for types that patch nothing in place). */
  width: number;
  pcRelative: boolean;
}

const table: RelocationType[] = [
  [C.R_X86_64_NONE, 'R_X86_64_NONE', 0, false],
  [C.R_X86_64_64, 'R_X86_64_64', 8, false],
  [C.R_X86_64_PC32, 'R_X86_64_PC32', 4, true],
  [C.R_X86_64_GOT32, 'R_X86_64_GOT32', 4, false],
  [C.R_X86_64_PLT32, 'R_X86_64_PLT32', 4, true],
  [C.R_X86_64_COPY, 'R_X86_64_COPY', 0, false],
  [C.R_X86_64_GLOB_DAT, 'R_X86_64_GLOB_DAT', 8, false],
  [C.R_X86_64_JUMP_SLOT, 'R_X86_64_JUMP_SLOT', 8, false],
  [C.R_X86_64_RELATIVE, 'R_X86_64_RELATIVE', 8, false],
  [C.R_X86_64_GOTPCREL, 'R_X86_64_GOTPCREL', 4, true],
  [C.R_X86_64_32, 'R_X86_64_32', 4, false],
  [C.R_X86_64_32S, 'R_X86_64_32S', 4, false],
  [C.R_X86_64_16, 'R_X86_64_16', 2, false],
  [C.R_X86_64_PC16, 'R_X86_64_PC16', 2, true],
  [C.R_X86_64_8, 'R_X86_64_8', 1, false],
  [C.R_X86_64_PC8, 'R_X86_64_PC8', 1, true],
  [C.R_X86_64_DTPMOD64, 'R_X86_64_DTPMOD64', 8, false],
  [C.R_X86_64_DTPOFF64, 'R_X86_64_DTPOFF64', 8, false],
  [C.R_X86_64_TPOFF64, 'R_X86_64_TPOFF64', 8, false],
  [C.R_X86_64_TLSGD, 'R_X86_64_TLSGD', 4, true],
  [C.R_X86_64_TLSLD, 'R_X86_64_TLSLD', 4, true],
  [C.R_X86_64_DTPOFF32, 'R_X86_64_DTPOFF32', 4, false],
  [C.R_X86_64_GOTTPOFF, 'R_X86_64_GOTTPOFF', 4, true],
  [C.R_X86_64_TPOFF32, 'R_X86_64_TPOFF32', 4, false],
  [C.R_X86_64_PC64, 'R_X86_64_PC64', 8, true],
  [C.R_X86_64_GOTOFF64, 'R_X86_64_GOTOFF64', 8, false],
  [C.R_X86_64_GOTPC32, 'R_X86_64_GOTPC32', 4, true],
  [C.R_X86_64_GOT64, 'R_X86_64_GOT64', 8, false],
  [C.R_X86_64_GOTPCREL64, 'R_X86_64_GOTPCREL64', 8, true],
  [C.R_X86_64_GOTPC64, 'R_X86_64_GOTPC64', 8, true],
  [C.R_X86_64_GOTPLT64, 'R_X86_64_GOTPLT64', 8, false],
  [C.R_X86_64_PLTOFF64, 'R_X86_64_PLTOFF64', 8, false],
  [C.R_X86_64_SIZE32, 'R_X86_64_SIZE32', 4, false],
  [C.R_X86_64_SIZE64, 'R_X86_64_SIZE64', 8, false],
  [C.R_X86_64_GOTPC32_TLSDESC, 'R_X86_64_GOTPC32_TLSDESC', 4, true],
  [C.R_X86_64_TLSDESC_CALL, 'R_X86_64_TLSDESC_CALL', 0, false],
  [C.R_X86_64_TLSDESC, 'R_X86_64_TLSDESC', 16, false],
  [C.R_X86_64_IRELATIVE, 'R_X86_64_IRELATIVE', 8, false],
  [C.R_X86_64_RELATIVE64, 'R_X86_64_RELATIVE64', 8, false],
  // 39 and 40 were the MPX (bound-checked) forms of PC32 and PLT32.
  [39, 'R_X86_64_PC32_BND', 4, true],
  [40, 'R_X86_64_PLT32_BND', 4, true],
  [C.R_X86_64_GOTPCRELX, 'R_X86_64_GOTPCRELX', 4, true],
  [C.R_X86_64_REX_GOTPCRELX, 'R_X86_64_REX_GOTPCRELX', 4, true],
].map(([type, name, width, pcRelative]) => ({ type, name, width, pcRelative }) as RelocationType);

const byType = new Map(table.map((t) => [t.type, t]));

export const RELOCATION_TYPES: readonly RelocationType[] = table;

export function relocationType(type: number): RelocationType | undefined {
  return byType.get(type);
}

/** The name readelf shows; unknown types as readelf 2.40 shows them. */
export function relocationTypeName(type: number): string {
  return byType.get(type)?.name ?? `unrecognized: ${type.toString(16)}`;
}

/** Bytes a relocation patches (0 for unknown types). */
export function relocationWidth(type: number): number {
  return byType.get(type)?.width ?? 0;
}

/**
 * A copy of `code` (which starts at offset `start` of its section) with the
 * bytes every relocation patches set to zero, so two compilations of the same
 * code compare equal regardless of where their targets ended up.
 */
export function maskRelocatedBytes(code: Uint8Array, relas: readonly ElfRela[], start = 0n): Uint8Array {
  const out = Uint8Array.from(code);
  for (const r of relas) {
    const at = Number(r.offset - start);
    const width = relocationWidth(r.type);
    for (let i = Math.max(0, at); i < Math.min(out.length, at + width); i++) out[i] = 0;
  }
  return out;
}
