import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { ARCHIVE_KEYRING, renderSourcesList } from '../kernel/apt-state.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { findFamilyByName, type SuiteFamily } from '../kernel/suites.js';
import { pathExists, removePath, writeFileAtomic } from '../util/fs.js';
import { acquireLock } from '../util/lock.js';
import { runCommand, commandExists, tail } from '../util/process.js';
import type { Progress } from '../util/progress.js';
import { runStages, type Stage } from '../util/stages.js';
import { agentScript } from './guest-scripts.js';
import { debianGuestFiles, GUEST_AGENT_PATH } from './debian-guest-files.js';

// A real Debian guest for a kernel release: a minimal root file system of the
// release's suite made by mmdebstrap (systemd, apt/dpkg, openssh-server,
// python3, kmod, nodejs and the release's own linux-image package with its
// initramfs), written into an ext4 disk image. Made once per release and
// reused; each guest boots it with a throwaway copy-on-write layer (QEMU's
// snapshot mode), so guests never change it and several can share it.

export interface DebianImage {
  dir: string;
  /** The ext4 disk image (raw). */
  disk: string;
  /** The release's initramfs as the image's initramfs-tools made it. */
  initrd: string;
  /** Private key that logs in as root over SSH (its public half is in the image). */
  sshKey: string;
  suite: string;
  release: string;
}

export interface DebianImageOptions {
  workspace: KernelWorkspace;
  cacheRoot: string;
  progress: Progress;
  signal?: AbortSignal;
}

/** What the image holds besides the essential packages and apt. */
export const GUEST_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'udev', 'openssh-server', 'python3', 'python3-apt', 'kmod', 'iproute2', 'nodejs', 'ca-certificates'];
const DISK_BYTES = 4 * 1024 ** 3;
const MANIFEST = 'image.json';

export function debianImageDir(cacheRoot: string, release: string): string {
  return path.join(cacheRoot, 'guests', `debian-${release}`);
}

/** The archive suites a guest of `family` installs from: its stable suites, then the family's own (backports). */
export function guestSources(family: SuiteFamily): string[] {
  const stable = findFamilyByName(family.codename);
  const lines = [...(stable && stable !== family ? renderSourcesList(stable, ARCHIVE_KEYRING).trimEnd().split('\n') : []), ...renderSourcesList(family, ARCHIVE_KEYRING).trimEnd().split('\n')];
  return [...new Set(lines)];
}

/** mmdebstrap's arguments for the guest root of `workspace` into `out`; `hook` is the customize script. */
export function guestMmdebstrapArgs(workspace: KernelWorkspace, family: SuiteFamily, out: string, hook: string): string[] {
  const image = workspace.packages.find((p) => p.name === `linux-image-${workspace.release}`);
  const kernelPackage = image ? `${image.name}=${image.version}` : `linux-image-${workspace.release}`;
  return [
    '--variant=apt',
    '--mode=root',
    '--aptopt=Acquire::Retries "3"',
    '--dpkgopt=path-exclude=/usr/share/{doc,man,locale}/*',
    `--include=${[...GUEST_PACKAGES, kernelPackage].join(',')}`,
    `--customize-hook=sh ${hook} "$1"`,
    family.codename,
    out,
    ...guestSources(family),
  ];
}

async function readImage(dir: string, release: string, suite: string): Promise<DebianImage | undefined> {
  const m = await fsp.readFile(path.join(dir, MANIFEST), 'utf8').catch(() => undefined);
  if (!m) return undefined;
  const img: DebianImage = { dir, disk: path.join(dir, 'disk.raw'), initrd: path.join(dir, 'initrd.img'), sshKey: path.join(dir, 'id_ed25519'), suite, release };
  for (const f of [img.disk, img.initrd, img.sshKey]) if (!(await pathExists(f))) return undefined;
  return img;
}

/** The Debian guest image of the workspace's release: reused when complete, else made (locked, staged). */
export async function ensureDebianImage(o: DebianImageOptions): Promise<DebianImage> {
  const family = o.workspace.suite === undefined ? undefined : findFamilyByName(o.workspace.suite);
  if (!family) throw new RebootlessError('VM_DEBIAN_SUITE_UNKNOWN', { release: o.workspace.release, suite: o.workspace.suite ?? '(none: a kernel added by hand)' });
  const dir = debianImageDir(o.cacheRoot, o.workspace.release);
  const done = await readImage(dir, o.workspace.release, family.codename);
  if (done) return done;
  if (process.getuid?.() !== 0) throw new RebootlessError('NOT_ROOT', { action: 'making the Debian guest image (mmdebstrap, ext4 image)', command: 'sudo rebootless vm run --debian …' });
  for (const [tool, pkg] of [
    ['mmdebstrap', 'mmdebstrap'],
    ['mkfs.ext4', 'e2fsprogs'],
    ['ssh-keygen', 'openssh-client'],
  ] as const) {
    if (!(await commandExists(tool))) throw new RebootlessError('TOOL_MISSING', { tool, packageName: pkg });
  }
  await fsp.mkdir(path.dirname(dir), { recursive: true });
  const release = await acquireLock(`${dir}.lock`, {
    timeoutMs: 30 * 60_000,
    onWait: (h) => o.progress.log(`waiting for another rebootless (pid ${h.pid}) making the Debian guest image of ${o.workspace.release}`),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  try {
    const again = await readImage(dir, o.workspace.release, family.codename);
    if (again) return again;
    await fsp.rm(path.join(dir, MANIFEST), { force: true });
    o.progress.log(`making a Debian ${family.codename} guest image for ${o.workspace.release} (once; it is reused) in ${dir}`);
    await fsp.mkdir(dir, { recursive: true });
    await runStages(dir, imageStages(o.workspace, family), { progress: o.progress, ...(o.signal ? { signal: o.signal } : {}) });
    const made = await readImage(dir, o.workspace.release, family.codename);
    if (!made) throw new Error(`Debian guest image ${dir} is incomplete after its stages completed`);
    return made;
  } finally {
    await release();
  }
}

function imageStages(workspace: KernelWorkspace, family: SuiteFamily): Stage[] {
  const t0 = Date.now();
  return [
    {
      name: 'key',
      output: 'key',
      async run(ctx) {
        await fsp.mkdir(ctx.out, { recursive: true });
        await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `rebootless-guest-${workspace.release}`, '-f', path.join(ctx.out, 'id_ed25519')]);
      },
    },
    {
      name: 'bootstrap',
      output: 'root',
      async run(ctx) {
        const pub = (await fsp.readFile(path.join(ctx.root, 'key', 'id_ed25519.pub'), 'utf8')).trim();
        const hook = path.join(ctx.root, 'customize.sh');
        await writeFileAtomic(hook, customizeScript(debianGuestFiles({ authorizedKey: pub, agent: agentScript() })));
        try {
          // a private mount namespace: what mmdebstrap mounts in the root never shows outside, even after kill -9
          await runCommand('unshare', ['--mount', '--', 'setpriv', '--pdeathsig', 'TERM', '--', 'mmdebstrap', ...guestMmdebstrapArgs(workspace, family, ctx.out, hook)], {
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
        } catch (e) {
          const out = e instanceof Error && 'stderr' in e ? String((e as { stderr: unknown }).stderr) : String(e);
          throw new RebootlessError('VM_DEBIAN_IMAGE_FAILED', { release: workspace.release, step: 'mmdebstrap', outputTail: tail(out, 15) }, { cause: e });
        }
      },
    },
    {
      name: 'disk',
      async run(ctx) {
        const root = path.join(ctx.root, 'root');
        const initrd = path.join(root, 'boot', `initrd.img-${workspace.release}`);
        if (!(await pathExists(initrd))) {
          throw new RebootlessError('VM_DEBIAN_IMAGE_FAILED', { release: workspace.release, step: 'initramfs', outputTail: `${initrd} is missing: the linux-image package made no initramfs` });
        }
        await fsp.copyFile(initrd, path.join(ctx.root, 'initrd.img'));
        await fsp.copyFile(path.join(ctx.root, 'key', 'id_ed25519'), path.join(ctx.root, 'id_ed25519'));
        await fsp.chmod(path.join(ctx.root, 'id_ed25519'), 0o600);
        const disk = path.join(ctx.root, 'disk.raw');
        const tmp = `${disk}.partial-${process.pid}`;
        try {
          await removePath(tmp);
          await runCommand('mkfs.ext4', ['-q', '-F', '-L', 'rebootless-root', '-E', 'root_owner=0:0', '-d', root, tmp, String(DISK_BYTES / 1024 / 1024) + 'M']);
          await fsp.rename(tmp, disk);
        } catch (e) {
          const out = e instanceof Error && 'stderr' in e ? String((e as { stderr: unknown }).stderr) : String(e);
          throw new RebootlessError('VM_DEBIAN_IMAGE_FAILED', { release: workspace.release, step: 'mkfs.ext4', outputTail: tail(out, 15) }, { cause: e });
        } finally {
          await removePath(tmp);
        }
        // the directory was only the source of the disk: 1 GB less in the cache
        await removePath(root);
        await writeFileAtomic(
          path.join(ctx.root, MANIFEST),
          JSON.stringify({ release: workspace.release, suite: family.codename, packages: GUEST_PACKAGES, seconds: Math.round((Date.now() - t0) / 1000), createdAt: new Date().toISOString() }, null, 2) + '\n',
        );
      },
    },
  ];
}

/** The customize hook: writes each file into the root ($1) and enables the units. */
export function customizeScript(files: readonly { path: string; mode: number; text: string }[]): string {
  const parts = ['#!/bin/sh', 'set -e', 'R="$1"'];
  files.forEach((f, i) => {
    const tag = `RBL_FILE_${i}`;
    parts.push(`mkdir -p "$R${path.posix.dirname(f.path)}"`, `cat > "$R${f.path}" <<'${tag}'`, f.text.endsWith('\n') ? f.text.slice(0, -1) : f.text, tag, `chmod ${f.mode.toString(8)} "$R${f.path}"`);
  });
  parts.push(
    'chmod 700 "$R/root/.ssh"',
    // networkd brings up the NIC by DHCP from QEMU; the agent and sshd start at boot; nothing runs apt behind the tests' back
    'chroot "$R" systemctl enable systemd-networkd.service rebootless-agent.service ssh.service >/dev/null 2>&1',
    'chroot "$R" systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer systemd-timesyncd.service >/dev/null 2>&1 || true',
    'rm -f "$R/etc/resolv.conf"',
    'echo "nameserver 10.0.2.3" > "$R/etc/resolv.conf"',
    `test -x "$R${GUEST_AGENT_PATH}"`,
  );
  return parts.join('\n') + '\n';
}
