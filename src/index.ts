// The rebootless library API.
export * from './errors/index.js';
export { cacheRoot, releaseDir } from './kernel/cache.js';
export { fetchRelease, type FetchOptions, type FetchResult } from './kernel/fetch.js';
export { loadWorkspace, listWorkspaces, type WorkspaceEntry } from './kernel/workspace.js';
export type { KernelWorkspace } from './kernel/manifest.js';
export { resolveRelease, listCandidates, type ReleaseCandidate } from './kernel/release.js';
export { checkRequirements, REQUIREMENTS, type DoctorReport } from './kernel/requirements.js';
export type { Progress } from './util/progress.js';
export { Vm, type VmStartOptions, type CommandResult, type VmReport } from './vm/session.js';
export { runInVm, type VmRunOptions, type VmRunResult } from './vm/run.js';
export type { Trouble, TroubleKind } from './vm/console-scan.js';
export * as elf from './elf/index.js';
export { readElfFile, readElfSymbols, openElfSymbols, writeElfFile } from './kernel/elf-files.js';
export { diffObjects } from './diff/index.js';
export type { DiffResult, FunctionDiff, DataDiff, Refusal, RefusalCode } from './diff/types.js';
