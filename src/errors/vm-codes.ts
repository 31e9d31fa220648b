// Error codes of the VM harness (src/vm).
export interface VmErrorData {
  VM_NO_RELEASE: { fetched: string[] };
  VM_PATH_COLLISION: { guestPath: string; first: string; second: string };
  VM_FILE_MISSING: { path: string };
  VM_CLI_NOT_BUILT: { path: string };
  VM_BOOT_TIMEOUT: { seconds: number; consoleTail: string };
  VM_COMMAND_TIMEOUT: { seconds: number; command: string; outputTail?: string; consoleTail?: string };
  VM_KERNEL_TROUBLE: { kinds: string[]; excerpt: string };
  VM_EXITED: { exitCode: number | null; signal: string | null; consoleTail: string; stderrTail: string };
  VM_STOPPED: Record<string, never>;
  VM_TRY_FAILED: { step: string; output: string };
  NOT_A_LIVEPATCH: { file: string };
  VM_NOT_DEBIAN: { what: string };
  VM_DEBIAN_SUITE_UNKNOWN: { release: string; suite: string };
  VM_DEBIAN_IMAGE_FAILED: { release: string; step: string; outputTail: string };
}
