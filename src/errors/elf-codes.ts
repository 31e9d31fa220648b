// Error codes of the ELF layer (src/elf, src/arch/x86_64) and of reading and
// writing object files (src/elf/files.ts). Every bad input ends in one
// of these, with a location (file, section, offset) where there is one.

export interface ElfErrorData {
  /** The file is not an ELF file at all. */
  ELF_NOT_ELF: { file: string };
  /** Valid ELF, but not what rebootless reads (class, byte order, machine, type, version). */
  ELF_UNSUPPORTED: { file: string; field: string; value: string; expected: string };
  /** A structure runs past the end of the file. */
  ELF_TRUNCATED: { file: string; what: string; offset: number; length: number; fileSize: number };
  /** An index or offset names something that does not exist. */
  ELF_OUT_OF_RANGE: { file: string; what: string; value: string; limit: string };
  /** Two sections (or a section and a header) claim the same bytes of the file. */
  ELF_OVERLAP: { file: string; first: string; second: string; offset: number };
  /** A size or count that cannot be real (and would need an absurd allocation). */
  ELF_TOO_LARGE: { file: string; what: string; value: string; limit: string };
  /** The structure is inconsistent in a way none of the above names. */
  ELF_MALFORMED: { file: string; detail: string };
  /** The writer was given a model it cannot write (a caller's bug or an unsupported edit). */
  ELF_MODEL_INVALID: { file: string; detail: string };
  /** Reading an input file failed at the operating-system level. */
  FILE_READ_FAILED: { path: string; reason: string };
  /** Writing an output file failed at the operating-system level. */
  FILE_WRITE_FAILED: { path: string; reason: string };
}
