// The rebootless library: everything the CLI does, callable from code.
// The CLI (src/cli) only parses options, calls these and renders results.

// errors: every failure is a RebootlessError with a code, data and a hint
export * from './errors/index.js';
export type { Progress } from './util/progress.js';
export { silentProgress } from './util/progress.js';

// kernel workspaces: a Debian kernel release fetched and prepared
export { cacheRoot, releaseDir } from './kernel/cache.js';
export { fetchRelease, type FetchOptions, type FetchResult } from './kernel/fetch.js';
export { loadWorkspace, listWorkspaces, type WorkspaceEntry } from './kernel/workspace.js';
export type { KernelWorkspace } from './kernel/manifest.js';
export { resolveRelease, listCandidates, type ReleaseCandidate } from './kernel/release.js';
export { checkRequirements, REQUIREMENTS, type DoctorReport } from './kernel/requirements.js';
export { listFetchableReleases, type FetchableRelease } from './kernel/fetchable.js';
export { addKernel, type AddKernelOptions } from './kernel/add.js';
export { recordTree, readTreeManifestIndex, TREE_MANIFEST_FILE, type TreeManifest, type TreeEntry } from './kernel/tree-manifest.js';
export { verifyTree, treeModifiedError, renderTreeVerify, type TreeVerifyOptions, type TreeVerifyReport } from './kernel/tree-verify.js';
export { ensureBuildRoot } from './kernel/build-root.js';

// build: a source diff to a verified livepatch module
export { buildLivepatch, patchModuleName, STAGES, type BuildOptions, type BuildReport, type BuiltObject } from './pipeline/index.js';
export { verifyModule, verifyModuleFile, assertVerified, type VerifyReport } from './pipeline/verify.js';
export { parseSourcePatch, applyFilePatch, type FilePatch } from './pipeline/source-patch.js';

// diff: which functions two compilations of one object differ in, and whether a livepatch can carry it
export { diffObjects } from './diff/index.js';
export type { DiffResult, FunctionDiff, DataDiff, Refusal, RefusalCode } from './diff/types.js';

// ELF: the object model, reading and writing object files
export * as elf from './elf/index.js';
export { readElfFile, readElfSymbols, openElfSymbols, writeElfFile } from './elf/files.js';

// try: prove a module in a throwaway VM of its release; the VM itself
export { proveModule, tryFailure, type ProveOptions, type ProveReport } from './demo/prove.js';
export { tryLivepatch, type TryOptions, type TryReport, type TryStep } from './vm/try.js';
export { Vm, sshOptions, type VmStartOptions, type CommandResult, type VmReport, type GuestSsh } from './vm/session.js';
export { ensureDebianImage, type DebianImage } from './vm/debian-image.js';
export { runInVm, type VmRunOptions, type VmRunResult } from './vm/run.js';
export type { Trouble, TroubleKind } from './vm/console-scan.js';
export { runDemo, type DemoOptions, type DemoReport } from './demo/index.js';

// the live host: predict, apply, revert, status, install at boot
export { liveHost, type LiveHost } from './runtime/host.js';
export { readModuleFile, type LivepatchModuleInfo } from './runtime/module-file.js';
export { predictPatch, type Prediction } from './runtime/predict.js';
export { applyPatch, type ApplyOptions, type ApplyReport } from './runtime/apply.js';
export type { RuntimeOptions } from './runtime/events.js';
export { revertPatch, revertAll, type RevertReport } from './runtime/revert.js';
export { hostStatus, STATUS_SCHEMA, type HostStatus, type PatchStatus, type PatchState } from './runtime/status.js';
export { installPatch, uninstallPatch, listInstalled, type InstallReport, type InstalledPatch } from './runtime/install.js';
