// Error codes of the build pipeline (src/pipeline, src/kbuild, src/klp).
export interface BuildErrorData {
  PATCH_EMPTY: { file: string };
  PATCH_MALFORMED: { file: string; line: number; detail: string };
  PATCH_PATH_OUTSIDE: { file: string; path: string };
  PATCH_UNSUPPORTED_FILE: { file: string; path: string; kind: string };
  PATCH_OTHER_ARCH: { file: string; path: string; arch: string };
  PATCH_MAKEFILE_CHANGE: { file: string; path: string; objects: string[] };
  PATCH_NEW_FILE_UNWIRED: { file: string; path: string };
  PATCH_NEW_FILE_LIST: { file: string; path: string; makefile: string; list: string; why: string };
  PATCH_NEW_FILE_NOT_BUILT: { path: string; list: string; makefile: string };
  LAYOUT_CHANGED: { header: string; record: string; member: string; line: number; units: string[] };
  HEADER_CHANGE_TOO_WIDE: { headers: string[]; names: number; units: number; limit: number };
  PATCH_DOES_NOT_APPLY: { file: string; path: string; hunk: number; line: number; detail: string };
  BUILD_UNPATCHABLE: { object: string; reasons: string[] };
  BUILD_NO_CHANGE: { objects: string[] };
  BUILD_SYMBOL_UNRESOLVED: { object: string; symbol: string; target: string; why: string };
  RUN_PRE_MISMATCH: { object: string; function: string; target: string; offset: number; compiled: string; running: string; why: string; candidates: string[] };
  RUN_PRE_AMBIGUOUS: { object: string; function: string; target: string; candidates: string[] };
  BUILD_REFERENCE_UNRESOLVED: { object: string; from: string; target: string; why: string };
  BUILD_STATIC_BRANCH: { object: string; key: string; owner: string };
  BUILD_CALLBACK_TWICE: { object: string; kind: string; target: string };
  BUILD_NEW_GLOBAL_TWICE: { symbol: string; objects: string[] };
  BUILD_STATE_CONFLICT: { object: string; id: string; versions: string };
  BUILD_MODULE_CHECK: { module: string; problem: string };
  BUILD_TARGET_MODULE_MISSING: { module: string; release: string; modulesDir: string };
  BUILD_GENERATED_CODE_FAILED: { module: string; workdir: string; command: string; output: string };
  BUILD_COMPILER_MISMATCH: { release: string; kernel: string; object: string };
  BUILD_COMPILE_FAILED: { source: string; variant: 'original' | 'patched'; output: string };
  KBUILD_COMMAND_UNKNOWN: { object: string; tree: string; output: string };
  KBUILD_RECORD_UNSUPPORTED: { object: string; record: string; detail: string };
  SIGN_INPUT_UNREADABLE: { what: string; path: string; reason: string };
  SIGN_FAILED: { module: string; reason: string; outputTail: string };
}
