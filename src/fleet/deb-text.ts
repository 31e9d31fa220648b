import { shellQuote } from '../util/shell.js';

// The text of Debian packages (pure): names, control files and maintainer
// scripts of a live patch's package and of rebootless's own.

export const PATCH_DIR = '/usr/lib/rebootless/patches';
export const SELF_DIR = '/usr/lib/rebootless';

/** `livepatch_cmdline` → `rebootless-livepatch-cmdline`: a Debian package name (lowercase, `-` for `_`, no second `livepatch`). */
export function patchPackageName(moduleName: string): string {
  const base = moduleName.toLowerCase().replace(/^livepatch[_-]/, '').replace(/[^a-z0-9+.-]+/g, '-');
  return `rebootless-livepatch-${base}`;
}

/** A Debian version: digits first, then letters, digits and `.+~-:`. */
export function validDebianVersion(v: string): boolean {
  return /^[0-9][A-Za-z0-9.+~:-]*$/.test(v) && !v.endsWith('-');
}

/** A version from a time: `0.YYYYMMDDhhmmss` (newer builds sort higher). */
export function versionFromTime(d: Date): string {
  return `0.${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}

export interface ControlFields {
  package: string;
  version: string;
  architecture: string;
  depends: string[];
  maintainer: string;
  section: string;
  /** First line: the synopsis; the rest: the long description. */
  description: string[];
  installedSizeKb: number;
}

export function renderControl(c: ControlFields): string {
  const [synopsis = c.package, ...rest] = c.description;
  const long = rest.map((l) => (l.trim() === '' ? ' .' : ` ${l}`));
  return [
    `Package: ${c.package}`,
    `Version: ${c.version}`,
    `Architecture: ${c.architecture}`,
    `Maintainer: ${c.maintainer}`,
    `Installed-Size: ${c.installedSizeKb}`,
    ...(c.depends.length ? [`Depends: ${c.depends.join(', ')}`] : []),
    `Section: ${c.section}`,
    'Priority: optional',
    `Description: ${synopsis}`,
    ...long,
    '',
  ].join('\n');
}

export interface PatchScriptInput {
  /** The module's name (as sysfs and `rebootless status` show it). */
  name: string;
  release: string;
  /** Where the package puts the module. */
  file: string;
}

/**
 * postinst: installs the patch for boot on its release (`rebootless install`) and, when that
 * release is running, applies it now. A failure fails the postinst: apt reports it and the
 * package stays unconfigured (`apt remove` then takes it away cleanly).
 */
export function renderPostinst(p: PatchScriptInput): string {
  const name = shellQuote(p.name);
  return `#!/bin/sh
# rebootless live patch ${p.name} for ${p.release}: installed for boot, applied now when ${p.release} runs.
set -e
case "$1" in
configure)
  rebootless install ${shellQuote(p.file)}
  if [ "$(uname -r)" = ${shellQuote(p.release)} ]; then
    # an older build of the same patch is live (an upgrade): take it back first
    if [ -d /sys/kernel/livepatch/${name} ]; then rebootless revert ${name}; fi
    rebootless apply ${shellQuote(p.file)}
  fi
  ;;
esac
exit 0
`;
}

/** prerm: on removal, reverts the patch if it is live and stops loading it at boot. */
export function renderPrerm(p: PatchScriptInput): string {
  const name = shellQuote(p.name);
  return `#!/bin/sh
# rebootless live patch ${p.name}: reverted and uninstalled when the package goes.
set -e
case "$1" in
remove|deconfigure)
  if [ -d /sys/kernel/livepatch/${name} ]; then rebootless revert ${name}; fi
  if [ -e ${shellQuote(`/var/lib/rebootless/${p.release}/${p.name}.ko`)} ]; then
    rebootless uninstall ${name} --kernel ${shellQuote(p.release)}
  fi
  ;;
esac
exit 0
`;
}

/** The command rebootless's package puts on the PATH. */
export function renderSelfWrapper(): string {
  return `#!/bin/sh\nexec node ${SELF_DIR}/dist/bin/rebootless.js "$@"\n`;
}
