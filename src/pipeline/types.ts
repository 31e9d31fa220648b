import type { SignOptions, SignReport } from './sign.js';
import type { DiffResult, PatchState } from '../diff/types.js';
import type { ElfFile, ElfSymbol } from '../elf/model.js';
import type { ObjectOwner } from '../kbuild/owner.js';
import type { Export } from '../kernel/symvers.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import type { KlpObject } from '../klp/module-source.js';
import type { Placeholder } from '../klp/extract.js';
import type { FunctionCheck, RunPreResult } from '../klp/run-pre/index.js';
import type { Progress } from '../util/progress.js';

// What flows between the build's stages (pipeline/index.ts lists them in order).

export interface BuildOptions {
  workspace: KernelWorkspace;
  patches: string[];
  name: string;
  output: string;
  replace: boolean;
  description?: string;
  cves?: string[];
  keepWorkdir?: boolean;
  /** Build without comparing the original with the release's binaries (loud; recorded in the module). */
  skipRunPre?: boolean;
  /** Sign the module with the tree's scripts/sign-file. */
  sign?: SignOptions;
  progress: Progress;
  signal?: AbortSignal;
}

/** validate → snapshot/compile: one source file, before and after the diff. */
export interface PatchedSource {
  path: string;
  orig: string;
  patched: string;
  /** A file the diff creates (orig is empty). */
  created?: boolean;
}

/** The facts of the running kernel the build needs, each read once. */
export interface KernelFacts {
  vmlinuxSymbols: readonly ElfSymbol[];
  /** The `GCC: ...` string vmlinux's .comment records, if any. */
  compiler: string | undefined;
  exports: Map<string, Export>;
}

/** compile → diff: one translation unit compiled before and after, each object read once. */
export interface CompiledObject {
  source: string;
  object: string;
  owner: ObjectOwner;
  orig: ElfFile;
  patched: ElfFile;
  /** A new file's object (orig is an empty object). */
  created?: boolean;
}

/** diff → generate: an object with a patchable change. */
export interface ChangedObject extends CompiledObject {
  diff: DiffResult;
}

/** run-pre → generate: a changed object whose original was compared with the release's binary. */
export interface CheckedObject extends ChangedObject {
  /** The release's module file the object belongs to (null for vmlinux). */
  targetFile: ElfFile | null;
  /** null when run-pre was skipped. */
  runPre: RunPreResult | null;
}

/** One compiled object's part of the report. */
export interface BuiltObject {
  source: string;
  object: string;
  owner: ObjectOwner;
  diff: DiffResult;
  patched: { name: string; sympos: number }[];
  carried: string[];
  /** A new file of the diff: all its code is new. */
  created?: boolean;
  /** Each function compared with the release's binary, or 'skipped' (--skip-run-pre). */
  runPre: FunctionCheck[] | 'skipped';
}

/** generate → link: the patch objects and the tables naming their functions. */
export interface GeneratedPatch {
  /** klp_object tables, one per target object (vmlinux or a module). */
  objects: KlpObject[];
  /** Placeholder symbols the post-link stage turns into livepatch relocations. */
  placeholders: Placeholder[];
  /** One serialized patch object per changed compiled object, in link order. */
  patchObjects: Uint8Array[];
  /** Symbol namespaces of the exports the patch objects use. */
  namespaces: string[];
  /** The states the patch declares (klp_patch.states), from every object. */
  states: PatchState[];
  built: BuiltObject[];
  warnings: string[];
}

export interface HeaderReport {
  headers: string[];
  /** Definitions whose change the search followed (the headers' own, then those using them). */
  names: number;
  /** Sources of the tree that mention one of them. */
  considered: number;
  /** Of those, the units the release builds (vmlinux or a module), compiled as released and patched. */
  compiled: string[];
  /** Of those, the units whose code changed (set by the diff stage). */
  changed?: string[];
  /** Milliseconds: searching the tree, deciding which units are built. */
  timings: { search: number; built: number };
}

export interface BuildReport {
  release: string;
  module: string;
  output: string;
  objects: BuiltObject[];
  warnings: string[];
  timings: Record<string, number>;
  /** When the diff changes headers: the units it reached, compiled and changed (pipeline/headers). */
  headers?: HeaderReport;
  /** With --sign-key/--sign-cert: who signed and with which digest. */
  signature?: SignReport;
  workdir?: string;
}
