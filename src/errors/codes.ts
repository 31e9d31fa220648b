// Every error rebootless reports has one of these codes. The data each code
// carries is typed, so a message or hint can never ask for a field that the
// thrower did not supply.

import type { BuildErrorData } from './build-codes.js';
import type { ElfErrorData } from './elf-codes.js';
import type { FleetErrorData } from './fleet-codes.js';
import type { RuntimeErrorData } from './runtime-codes.js';
import type { ToolchainErrorData } from './toolchain-codes.js';
import type { VerifyErrorData } from './verify-codes.js';
import type { VmErrorData } from './vm-codes.js';

/** A file of a verified tree whose permission bits differ from the recorded ones (octal). */
export interface TreeModeChange {
  path: string;
  recorded: string;
  found: string;
}

export interface CoreErrorData {
  USAGE: { detail: string };
  NOT_ROOT: { action: string; command: string };
  TOOL_MISSING: { tool: string; packageName: string };
  COMMAND_FAILED: { command: string; exitCode: number | null; signal: string | null; stderrTail: string };
  REGISTRY_UNREACHABLE: { detail: string };
  APT_LISTS_EMPTY: { family: string };
  APT_UPDATE_FAILED: { family: string; suites: string[]; detail: string };
  ARCHIVE_KEYRING_MISSING: { path: string };
  PACKAGE_UNAVAILABLE: { packageName: string; version: string };
  PACKAGE_CONTENT_MISSING: { packageName: string; path: string };
  KERNEL_ADD_INVALID: { name: string; problem: string };
  KERNEL_ADD_INCOMPLETE: { name: string; buildDir: string; missing: string[] };
  /** options: `CONFIG_X: release value → prepared value` */
  PREPARE_CONFIG_MISMATCH: { release: string; options: string[] };
  /** families: the suite families the name belongs to (none: no Debian release name); available: close fetchable releases */
  RELEASE_UNKNOWN: { release: string; families: string[]; available: string[] };
  RELEASE_INCOMPLETE: { release: string; missing: string[]; available: string[] };
  NO_DEFAULT_RELEASE: { flavor: string; family: string };
  RELEASE_NOT_FETCHED: { release: string; cacheRoot: string };
  MANIFEST_INVALID: { path: string; detail: string };
  /** name: the workspace's (the release, or the name given to `kernel add`); registered: made by `kernel add` */
  TREE_MANIFEST_MISSING: { name: string; registered: boolean; workspace: string; tree: string; manifest: string };
  /** each list: its first paths, sorted; each count: all of them */
  TREE_MODIFIED: {
    name: string;
    registered: boolean;
    workspace: string;
    tree: string;
    recordedAt: string;
    changed: string[];
    changedCount: number;
    added: string[];
    addedCount: number;
    removed: string[];
    removedCount: number;
    modeChanged: TreeModeChange[];
    modeChangedCount: number;
  };
  MODULES_DEP_UNREADABLE: { path: string; reason: string };
  MODULE_UNKNOWN: { name: string; release: string; close: string[] };
  DISK_FULL: { path: string; stage: string };
  LOCK_TIMEOUT: { lockPath: string; holderPid: number; waitedSeconds: number };
  INTERRUPTED: { signal: string };
  REQUIREMENTS_MISSING: { missing: string[] };
}

/** Every code with its data; each domain keeps its own codes in its own file. */
export interface ErrorDataMap extends CoreErrorData, ElfErrorData, VmErrorData, BuildErrorData, RuntimeErrorData, VerifyErrorData, ToolchainErrorData, FleetErrorData {}

export type ErrorCode = keyof ErrorDataMap;
