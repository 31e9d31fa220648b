import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../../src/kernel/manifest.js';
import { findFamilyByName } from '../../../src/kernel/suites.js';
import { debianGuestFiles, GUEST_AGENT_PATH } from '../../../src/vm/debian-guest-files.js';
import { customizeScript, guestMmdebstrapArgs, guestSources } from '../../../src/vm/debian-image.js';
import { agentScript } from '../../../src/vm/guest-scripts.js';
import { qemuArgs } from '../../../src/vm/qemu.js';
import { sshOptions } from '../../../src/vm/session.js';
import { tempDir } from '../../helpers/tmp.js';

const base = { kernel: 'vmlinuz', initrd: 'initrd', agentSocket: 'a.sock', dataSocket: 'd.sock', memoryMb: 1024, cpus: 2, nonce: 'n', kvm: false };

describe('the Debian guest', () => {
  it('boots from its disk in snapshot mode, may reboot in place, and forwards a loopback port to SSH', () => {
    const args = qemuArgs({ ...base, disk: '/c/disk.raw', sshPort: 2222 });
    const append = args[args.indexOf('-append') + 1];
    expect(append).toContain('root=LABEL=rebootless-root rw');
    expect(append).not.toContain('rdinit=');
    expect(args).not.toContain('-no-reboot');
    expect(args).toContain('file=/c/disk.raw,if=virtio,format=raw,snapshot=on');
    expect(args).toContain('user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22');
  });

  it('the busybox guest keeps its initramfs, no disk, no network and never reboots', () => {
    const args = qemuArgs(base);
    expect(args[args.indexOf('-append') + 1]).toContain('rdinit=/init');
    expect(args).toContain('-no-reboot');
    expect(args.join(' ')).not.toMatch(/-drive|-netdev/);
  });

  it("installs the release's own linux-image package, pinned, from its suite and the stable suites", () => {
    const ws = { release: '6.12.95+deb12-cloud-amd64', packages: [{ name: 'linux-image-6.12.95+deb12-cloud-amd64', version: '6.12.95-1~bpo12+1' }] } as unknown as KernelWorkspace;
    const family = findFamilyByName('bookworm-backports');
    if (!family) throw new Error('no bookworm-backports family');
    const args = guestMmdebstrapArgs(ws, family, '/out', '/hook.sh');
    const include = args.find((a) => a.startsWith('--include='));
    expect(include).toContain('linux-image-6.12.95+deb12-cloud-amd64=6.12.95-1~bpo12+1');
    expect(include).toMatch(/openssh-server.*python3.*kmod/);
    expect(args).toContain('bookworm');
    const sources = guestSources(family);
    expect(sources.some((s) => /debian bookworm main/.test(s))).toBe(true);
    expect(sources.some((s) => /debian-security bookworm-security main/.test(s))).toBe(true);
    expect(sources.some((s) => /bookworm-backports main/.test(s))).toBe(true);
    expect(new Set(sources).size).toBe(sources.length);
  });

  it('the customize hook writes every guest file with its mode and enables the units in the root', () => {
    const dir = tempDir('rbl-debian-hook-');
    const root = path.join(dir, 'root');
    const bin = path.join(dir, 'bin');
    mkdirSync(root);
    mkdirSync(bin);
    // chroot is the one command the hook runs in the root: record its arguments instead
    writeFileSync(path.join(bin, 'chroot'), `#!/bin/sh\necho "$@" >> ${dir}/chroot.log\n`, { mode: 0o755 });
    const files = debianGuestFiles({ authorizedKey: 'ssh-ed25519 AAAA test', agent: agentScript() });
    const hook = path.join(dir, 'hook.sh');
    writeFileSync(hook, customizeScript(files));
    execFileSync('sh', [hook, root], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } });
    for (const f of files) {
      expect(readFileSync(path.join(root, f.path), 'utf8')).toBe(f.text.endsWith('\n') ? f.text : `${f.text}\n`);
      expect(statSync(path.join(root, f.path)).mode & 0o777).toBe(f.mode);
    }
    expect(readFileSync(path.join(root, 'root/.ssh/authorized_keys'), 'utf8')).toBe('ssh-ed25519 AAAA test\n');
    expect(readFileSync(path.join(root, GUEST_AGENT_PATH), 'utf8')).toContain('RBL-READY');
    expect(readFileSync(path.join(root, 'etc/resolv.conf'), 'utf8')).toBe('nameserver 10.0.2.3\n');
    const log = readFileSync(path.join(dir, 'chroot.log'), 'utf8');
    expect(log).toMatch(/systemctl enable .*rebootless-agent\.service/);
    expect(log).toMatch(/systemctl mask .*apt-daily\.timer/);
  });

  it('ssh options log in with the key, without host key checks or prompts', () => {
    const o = sshOptions({ host: '127.0.0.1', port: 2200, user: 'root', keyFile: '/k' });
    expect(o.join(' ')).toContain('-i /k -p 2200');
    expect(o).toContain('BatchMode=yes');
    expect(o).toContain('StrictHostKeyChecking=no');
  });
});
