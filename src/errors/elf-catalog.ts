import type { CatalogPart } from './catalog-types.js';
import type { ElfErrorData } from './elf-codes.js';
import { EXIT } from './exit.js';

const CHECK_INPUT = 'check that the file is a complete x86-64 object, module or vmlinux (rebuild it or fetch it again); `readelf -a FILE` shows what is wrong';

// Messages leave the file out: every ELF error carries it in its location,
// which the CLI prints first, compiler style (`file(section): 0x1a: what`).
export const elfCatalog: CatalogPart<ElfErrorData> = {
  ELF_NOT_ELF: {
    exitCode: EXIT.error,
    message: () => 'not an ELF file (no \\x7fELF magic)',
    hint: () => 'pass an object file (.o), a kernel module (.ko) or a vmlinux',
  },
  ELF_UNSUPPORTED: {
    exitCode: EXIT.error,
    message: (d) => `unsupported ELF ${d.field}: ${d.value} (expected ${d.expected})`,
    hint: () => 'rebootless reads 64-bit little-endian x86-64 objects (.o), modules (.ko) and vmlinux, and writes objects and modules; pass one of those',
  },
  ELF_TRUNCATED: {
    exitCode: EXIT.error,
    message: (d) => `${d.what} (bytes ${d.offset}..${d.offset + d.length}) runs past the end of the file (${d.fileSize} bytes)`,
    hint: () => `the file is truncated or corrupt; ${CHECK_INPUT}`,
  },
  ELF_OUT_OF_RANGE: {
    exitCode: EXIT.error,
    message: (d) => `${d.what} ${d.value} is out of range (limit ${d.limit})`,
    hint: () => `the file is corrupt; ${CHECK_INPUT}`,
  },
  ELF_OVERLAP: {
    exitCode: EXIT.error,
    message: (d) => `${d.first} and ${d.second} overlap at file offset 0x${d.offset.toString(16)}`,
    hint: () => `the file is corrupt; ${CHECK_INPUT}`,
  },
  ELF_TOO_LARGE: {
    exitCode: EXIT.error,
    message: (d) => `${d.what} ${d.value} is too large (limit ${d.limit})`,
    hint: () => `the file is corrupt or not a kernel object; ${CHECK_INPUT}`,
  },
  ELF_MALFORMED: {
    exitCode: EXIT.error,
    message: (d) => `malformed ELF: ${d.detail}`,
    hint: () => `the file is corrupt; ${CHECK_INPUT}`,
  },
  ELF_MODEL_INVALID: {
    exitCode: EXIT.error,
    message: (d) => `cannot write the object: ${d.detail}`,
    hint: () => 'the object model handed to the ELF writer is inconsistent; this is a bug in the stage that edited it, please report it with the command line',
  },
  FILE_READ_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `cannot read ${d.path}: ${d.reason}`,
    hint: () => 'check that the path exists and is a readable regular file',
  },
  FILE_WRITE_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `cannot write ${d.path}: ${d.reason}`,
    hint: () => 'check that the directory exists, is writable and has free space',
  },
};
