// Error codes of the toolchain: the exact compiler of a kernel, on the host
// or in a build root of the kernel's Debian suite (src/kernel/toolchain.ts,
// src/kernel/build-root.ts).
export interface ToolchainErrorData {
  TOOLCHAIN_UNAVAILABLE: { compiler: string; host: string | null; reason: string };
  BUILD_ROOT_FAILED: { suite: string; dir: string; step: string; outputTail: string };
  BUILD_ROOT_COMPILER_UNAVAILABLE: { suite: string; packageName: string; version: string; compiler: string };
  BUILD_ROOT_COMPILER_MISMATCH: { suite: string; root: string; expected: string; found: string };
}
