import type { Catalog, CatalogEntry, CatalogPart } from './catalog-types.js';
import type { CoreErrorData } from './codes.js';
import { buildCatalog } from './build-catalog.js';
import { elfCatalog } from './elf-catalog.js';
import { fleetCatalog } from './fleet-catalog.js';
import { EXIT } from './exit.js';
import { list } from './format.js';
import { runtimeCatalog } from './runtime-catalog.js';
import { toolchainCatalog } from './toolchain-catalog.js';
import { verifyCatalog } from './verify-catalog.js';
import { vmCatalog } from './vm-catalog.js';

export type { Catalog, CatalogEntry, CatalogPart };
export { EXIT };

/** The commands that make a workspace again, its content manifest with it (there is no refetch flag: remove it first). */
const remake = (d: { name: string; registered: boolean; workspace: string; tree: string }): string =>
  `rm -r ${d.workspace} && rebootless kernel ${d.registered ? `add ${d.name} --build-dir ${d.tree} (with the --vmlinuz and --modules it had, if any)` : `fetch ${d.name}`}`;

const coreCatalog: CatalogPart<CoreErrorData> = {
  USAGE: {
    exitCode: EXIT.usage,
    message: (d) => d.detail,
    hint: () => 'run the command with --help to see its arguments',
  },
  NOT_ROOT: {
    exitCode: EXIT.error,
    message: (d) => `${d.action} needs root`,
    hint: (d) => `run as root: ${d.command}`,
  },
  TOOL_MISSING: {
    exitCode: EXIT.error,
    message: (d) => `required program '${d.tool}' was not found`,
    hint: (d) => `install it with 'rebootless doctor --install' (Debian package ${d.packageName})`,
  },
  COMMAND_FAILED: {
    exitCode: EXIT.error,
    message: (d) =>
      `command failed (${d.signal !== null ? `signal ${d.signal}` : `exit ${String(d.exitCode)}`}): ${d.command}` +
      (d.stderrTail ? `\n${d.stderrTail}` : ''),
    hint: () => 'read the command output above; re-running resumes from the stage that failed',
  },
  REGISTRY_UNREACHABLE: {
    exitCode: EXIT.error,
    message: (d) => `the Debian package registry could not be reached: ${d.detail}`,
    hint: () =>
      'check the network (rebootless reads http://deb.debian.org/debian and /debian-security; http_proxy is honoured), then run the same command again; the cache was left as it was',
  },
  APT_LISTS_EMPTY: {
    exitCode: EXIT.error,
    message: (d) => `the ${d.family} package lists hold no Debian kernel packages`,
    hint: (d) => `remove the lists to have them downloaded again (rm -r CACHE/apt/${d.family}, CACHE being the rebootless cache), then run the same command again`,
  },
  APT_UPDATE_FAILED: {
    exitCode: EXIT.error,
    message: (d) => `could not update the ${d.family} package lists (${list(d.suites)}): ${d.detail}`,
    hint: () =>
      "if the error names a key or a signature, upgrade the host's debian-archive-keyring package (rebootless verifies the archive with its keys); otherwise run the same command again",
  },
  ARCHIVE_KEYRING_MISSING: {
    exitCode: EXIT.error,
    message: (d) => `Debian's archive keyring ${d.path} is missing: rebootless cannot verify the package lists without it`,
    hint: () => 'install it: apt-get install debian-archive-keyring',
  },
  PACKAGE_UNAVAILABLE: {
    exitCode: EXIT.error,
    message: (d) => `package ${d.packageName} ${d.version} is not available from the Debian archive`,
    hint: () => "old kernel releases disappear from the archive: pick one listed by 'rebootless kernel fetch --list'",
  },
  PACKAGE_CONTENT_MISSING: {
    exitCode: EXIT.error,
    message: (d) => `package ${d.packageName} does not contain ${d.path}`,
    hint: () => 'this release is packaged differently from what rebootless expects; try another release and report this one',
  },
  KERNEL_ADD_INVALID: {
    exitCode: EXIT.usage,
    message: (d) => `cannot add kernel '${d.name}': ${d.problem}`,
    hint: () => 'rebootless kernel add NAME --build-dir DIR [--vmlinuz FILE] [--modules DIR]; `rebootless kernel list` shows the names taken',
  },
  KERNEL_ADD_INCOMPLETE: {
    exitCode: EXIT.usage,
    message: (d) => `${d.buildDir} is not a finished in-tree kernel build for '${d.name}': missing ${d.missing.join(', ')}`,
    hint: () => 'run `make` (and `make modules_prepare`) in the kernel tree first; the build directory must hold vmlinux, .config, Module.symvers and System.map',
  },
  PREPARE_CONFIG_MISMATCH: {
    exitCode: EXIT.error,
    message: (d) => `preparing ${d.release}'s source changed its configuration (the objects would not match the running kernel): ${d.options.slice(0, 8).join('; ')}${d.options.length > 8 ? `; and ${d.options.length - 8} more` : ''}`,
    hint: () => "Kconfig follows the host's tools: install what `rebootless doctor` lists (dwarves for the BTF options), then fetch the release again",
  },
  RELEASE_UNKNOWN: {
    exitCode: EXIT.error,
    message: (d) =>
      (d.families.length
        ? `unknown kernel release '${d.release}': Debian's ${d.families.join(' and ')} suites do not have it`
        : `unknown kernel release '${d.release}': not a Debian kernel release rebootless can fetch (bookworm 6.1.0-N-FLAVOUR, bookworm-backports 6.12.N+deb12-FLAVOUR, trixie 6.12.N+deb13-FLAVOUR)`) +
      `; releases that can be fetched: ${list(d.available)}`,
    hint: () => "pick one of them, or see every release that can be fetched with 'rebootless kernel fetch --list'",
  },
  RELEASE_INCOMPLETE: {
    exitCode: EXIT.error,
    message: (d) =>
      `kernel release '${d.release}' cannot be fetched: the Debian archive no longer serves ${list(d.missing)}; releases that can be fetched: ${list(d.available)}`,
    hint: () =>
      "rebootless needs the image, headers, -dbg and linux-source at one version; pick one of the releases named, or see them all with 'rebootless kernel fetch --list'",
  },
  NO_DEFAULT_RELEASE: {
    exitCode: EXIT.error,
    message: (d) => `no ${d.flavor} kernel release in Debian's ${d.family} suites has its image, headers, -dbg and exact-version linux-source packages available`,
    hint: () => "name a release explicitly (rebootless kernel fetch RELEASE); 'rebootless kernel fetch --list' shows those that can be fetched",
  },
  RELEASE_NOT_FETCHED: {
    exitCode: EXIT.error,
    message: (d) => `kernel release '${d.release}' has not been fetched into ${d.cacheRoot}`,
    hint: (d) => `run 'rebootless kernel fetch ${d.release}'`,
  },
  MANIFEST_INVALID: {
    exitCode: EXIT.error,
    message: (d) => `kernel workspace manifest ${d.path} is invalid: ${d.detail}`,
    hint: () => "run 'rebootless kernel fetch RELEASE' again; it redoes whatever is broken (a kernel registered by an older rebootless with 'kernel add': run that 'kernel add' again)",
  },
  TREE_MANIFEST_MISSING: {
    exitCode: EXIT.error,
    message: (d) => `${d.name} has no content manifest (${d.manifest}): nothing shows that ${d.tree} is as ${d.registered ? "'kernel add' registered it" : "'kernel fetch' prepared it"}`,
    hint: (d) => `${d.registered ? 'register it again' : 'prepare it again'} to record one: ${remake(d)}`,
  },
  TREE_MODIFIED: {
    exitCode: EXIT.error,
    message: (d) => {
      const lists = [
        ['changed', d.changed, d.changedCount, 'changed'],
        ['added', d.added, d.addedCount, 'added'],
        ['removed', d.removed, d.removedCount, 'removed'],
        ['mode', d.modeChanged.map((m) => `${m.path} (${m.recorded} → ${m.found})`), d.modeChangedCount, 'with another mode'],
      ] as const;
      const lines = lists.flatMap(([what, first, count, more]) => [
        ...first.map((p) => `  ${what.padEnd(8)} ${p}`),
        ...(count > first.length ? [`  … and ${count - first.length} more ${more}`] : []),
      ]);
      return (
        `${d.registered ? 'the build directory' : 'the prepared source tree'} of ${d.name} (${d.tree}) is not as recorded ${d.recordedAt}: ` +
        `${d.changedCount} changed, ${d.addedCount} added, ${d.removedCount} removed, ${d.modeChangedCount} with another mode\n${lines.join('\n')}`
      );
    },
    hint: (d) =>
      d.registered
        ? `builds never write into a registered build directory; if you changed or rebuilt it on purpose, register it again: ${remake(d)}`
        : `builds must leave the tree as 'kernel fetch' prepared it (objects built from another tree may not match the running kernel); prepare it again: ${remake(d)}`,
  },
  MODULES_DEP_UNREADABLE: {
    exitCode: EXIT.error,
    message: (d) => `cannot read the release's module list ${d.path}: ${d.reason}`,
    hint: () => "the kernel workspace is incomplete; run 'rebootless kernel fetch RELEASE' again, it redoes whatever is broken",
  },
  MODULE_UNKNOWN: {
    exitCode: EXIT.error,
    message: (d) => `no module '${d.name}' in ${d.release}${d.close.length ? `; close names: ${list(d.close)}` : ''}`,
    hint: () => 'module names are file names without .ko (dashes and underscores are the same); see modules.dep of the release',
  },
  DISK_FULL: {
    exitCode: EXIT.error,
    message: (d) => `no space left on device while writing ${d.path} (stage ${d.stage}); the partial stage was removed`,
    hint: () => 'free disk space (a prepared release needs about 3 GB) or point REBOOTLESS_CACHE at a larger disk, then run the same command again',
  },
  LOCK_TIMEOUT: {
    exitCode: EXIT.error,
    message: (d) => `another rebootless process (pid ${d.holderPid}) holds ${d.lockPath}; gave up after ${d.waitedSeconds}s`,
    hint: () => 'wait for the other fetch to finish, then run the same command again',
  },
  INTERRUPTED: {
    exitCode: EXIT.interrupted,
    message: (d) => `interrupted by ${d.signal}`,
    hint: () => 'run the same command again; completed stages are kept and the interrupted one is redone',
  },
  REQUIREMENTS_MISSING: {
    exitCode: EXIT.error,
    message: (d) => `missing host requirement(s): ${list(d.missing)}`,
    hint: () => "run 'rebootless doctor --install' as root",
  },
};

export const catalog: Catalog = { ...coreCatalog, ...elfCatalog, ...vmCatalog, ...buildCatalog, ...runtimeCatalog, ...verifyCatalog, ...toolchainCatalog, ...fleetCatalog };
