import { mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { pathExists, removePath, writeFileAtomic } from '../util/fs.js';
import { hostPath, type LiveHost } from './host.js';
import { installedFile, libDir, listInstalled, readOrder } from './installed.js';
import { moduleName } from '../util/module-name.js';
import { readModuleFile, type LivepatchModuleInfo } from './module-file.js';
import { requireRoot } from './preflight.js';

// Installed patches survive a reboot: the module is kept under
// /var/lib/rebootless/<release>/ with an `order` file (stacking order), and one
// systemd unit loads them at boot when the running release has a directory.

export { installedFile, libDir, listInstalled, readOrder, type InstalledPatch } from './installed.js';

export const UNIT_NAME = 'rebootless.service';

export interface InstallReport {
  name: string;
  release: string;
  file: string;
  order: string[];
  unit: string;
  /** systemd was running and reloaded its units. */
  reloaded: boolean;
  /** Why the unit might not work at boot. */
  warnings: string[];
}

const unitPath = (h: LiveHost): string => hostPath(h, 'etc/systemd/system', UNIT_NAME);
const wantsPath = (h: LiveHost): string => hostPath(h, 'etc/systemd/system/multi-user.target.wants', UNIT_NAME);

/** systemd command-line quoting: double quotes when needed, with \ and " escaped. */
const systemdQuote = (raw: string): string => {
  // systemd expands %specifiers and $VARIABLES even inside quotes: double them
  const a = raw.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
};

/** The unit file text; `command` loads every installed patch of the running release. */
export function renderUnit(command: readonly string[]): string {
  return `# Written by rebootless install. Loads the live patches installed for the running
# kernel release from /var/lib/rebootless/<release>/, in stacking order.
[Unit]
Description=rebootless: load the live patches installed for this kernel release
ConditionPathIsDirectory=/var/lib/rebootless/%v
After=local-fs.target systemd-modules-load.service

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=15min
ExecStart=${command.map(systemdQuote).join(' ')}

[Install]
WantedBy=multi-user.target
`;
}

const writeOrder = (h: LiveHost, release: string, order: string[]): Promise<void> =>
  writeFileAtomic(path.join(libDir(h, release), 'order'), order.map((n) => `${n}\n`).join(''));

async function reloadSystemd(h: LiveHost): Promise<boolean> {
  if (h.root !== '/' || !(await pathExists('/run/systemd/system'))) return false;
  return (await h.exec('systemctl', ['daemon-reload'])).exitCode === 0;
}

export async function installPatch(h: LiveHost, file: string, command: readonly string[]): Promise<InstallReport & { module: LivepatchModuleInfo }> {
  const m = await readModuleFile(file);
  requireRoot(h, 'installing a live patch', `rebootless install ${file}`);
  const dir = libDir(h, m.release);
  await mkdir(dir, { recursive: true });
  const dest = installedFile(h, m.release, m.name);
  await writeFileAtomic(dest, await readFile(file), 0o644);
  const order = [...(await readOrder(h, m.release)).filter((n) => n !== m.name), m.name];
  await writeOrder(h, m.release, order);
  await mkdir(path.dirname(unitPath(h)), { recursive: true });
  await writeFileAtomic(unitPath(h), renderUnit(command), 0o644);
  await mkdir(path.dirname(wantsPath(h)), { recursive: true });
  if (!(await pathExists(wantsPath(h)))) await symlink(`/etc/systemd/system/${UNIT_NAME}`, wantsPath(h));
  const warnings = command.some((a) => /\/_npx\/|^\/tmp\//.test(a))
    ? [`the unit runs ${command.join(' ')}, which lives in a temporary place; install rebootless for good (npm install -g) and run install again`]
    : [];
  return { name: m.name, release: m.release, file: dest, order, unit: unitPath(h), reloaded: await reloadSystemd(h), warnings, module: m };
}

export async function uninstallPatch(h: LiveHost, rawName: string, release: string): Promise<{ name: string; release: string; unitRemoved: boolean }> {
  const name = moduleName(rawName);
  requireRoot(h, 'uninstalling a live patch', `rebootless uninstall ${name}`);
  const order = await readOrder(h, release);
  if (!order.includes(name)) {
    throw new RebootlessError('NOT_INSTALLED', { name, release, installed: (await listInstalled(h)).map((p) => `${p.name} (${p.release})`) });
  }
  const rest = order.filter((n) => n !== name);
  await removePath(installedFile(h, release, name));
  if (rest.length) await writeOrder(h, release, rest);
  else await removePath(libDir(h, release));
  const unitRemoved = (await listInstalled(h)).length === 0;
  if (unitRemoved) {
    await removePath(wantsPath(h));
    await removePath(unitPath(h));
  }
  await reloadSystemd(h);
  return { name, release, unitRemoved };
}
