import type { ElfFile, ElfSymbol } from '../../elf/model.js';
import type { KlpTables } from '../../elf/klp-tables.js';

// What `verify` reads and what it answers. The checker takes the finished
// module and the running kernel's symbol tables and code; it never asks the
// code that produced the module.

export type ViolationCode =
  /** A `.klp.sym` names no symbol at that sympos in its object (or is malformed). */
  | 'KLP_SYM_MISSING'
  /** A `.klp.rela.<obj>` section uses a symbol that is not a `.klp.sym` of <obj>, or a normal relocation uses a `.klp.sym`. */
  | 'KLP_RELA_MISMATCH'
  /** A plain undefined symbol that Module.symvers does not export. */
  | 'EXPORT_MISSING'
  /** An export in a namespace the module does not import (MODULE_IMPORT_NS). */
  | 'NAMESPACE_NOT_IMPORTED'
  /** A klp_func's old_name,old_sympos is not a function of its object. */
  | 'FUNCTION_MISSING'
  /** The klp_object names a module the release does not have. */
  | 'OBJECT_UNKNOWN'
  /** New code uses module-local data named like kernel data the original used: a copy instead of the kernel's variable. */
  | 'COPIED_DATA'
  /** New code uses a kernel entity with the base name of one the original used, but another one (buf.2 for buf.1). */
  | 'WRONG_TWIN'
  /** A side-table entry for the module's code (__mcount_loc, .orc_unwind_ip, __ex_table ...) points at kernel code. */
  | 'SIDE_TABLE_KERNEL_CODE'
  /** A static branch's key (or a static call's) reached through a `.klp.rela` of a module: resolved after the loader reads the table. */
  | 'SIDE_TABLE_LATE'
  /** The release code the module carries for apply's check of the running text is not the release's. */
  | 'LIVE_CODE_WRONG';

export interface Violation {
  code: ViolationCode;
  /** The replaced (or carried) function, or '(module)'. */
  function: string;
  symbol: string;
  /** What the original code (or the format) says the reference must be. */
  expected: string;
  /** What the module has. */
  actual: string;
  message: string;
}

/** A symbol of the running kernel (vmlinux or a module), as kallsyms counts it. */
export interface TargetSymbol {
  object: string;
  name: string;
  /** Address (vmlinux) or value in its section (module). */
  value: bigint;
  size: number;
  kind: 'function' | 'data' | 'other';
  /** In a writable section. */
  writable: boolean;
  global: boolean;
  /** The symbol in the object's file (a module's, to read its relocations); absent for exports of other modules. */
  elf?: ElfSymbol;
}

export interface TargetObject {
  /** 'vmlinux' or the module name. */
  name: string;
  /** Same-named symbols in kallsyms order (address order in vmlinux, table order in a module). */
  byName(name: string): readonly TargetSymbol[];
  /** The symbol covering an address (vmlinux), the innermost sized one first. */
  containing(address: bigint): TargetSymbol | undefined;
  fromElf(sym: ElfSymbol): TargetSymbol | undefined;
  /** A module target's own file: the original code is read from its relocations. */
  file?: ElfFile;
}

/** A Module.symvers line, as far as verify needs it. */
export interface ExportInfo {
  module: string;
  namespace: string;
}

export interface VerifyInput {
  module: ElfFile;
  tables: KlpTables;
  /** 'vmlinux' and every target module present in the release. */
  targets: ReadonlyMap<string, TargetObject>;
  exports: ReadonlyMap<string, ExportInfo>;
  /** The code of vmlinux functions read so far (see VerifyResult.needCode). */
  code: ReadonlyMap<TargetSymbol, Uint8Array>;
}

export interface VerifyResult {
  violations: Violation[];
  /** vmlinux functions whose code the checks need: read them and verify again. */
  needCode: TargetSymbol[];
  /** Replaced functions whose references were compared (carried functions they call included). */
  compared: string[];
}
