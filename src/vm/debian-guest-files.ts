import { ROOT_LABEL } from './qemu.js';

// The files rebootless adds to a Debian guest's root (pure): how it boots from
// the virtio disk, gets its address from QEMU's DHCP, lets the host in over SSH
// as root with the image's key, and runs the same command agent as the
// busybox guest on the second serial port, as a systemd service.

export interface GuestFileText {
  path: string;
  mode: number;
  text: string;
}

export const GUEST_AGENT_PATH = '/usr/local/lib/rebootless-agent/agent';
export const GUEST_HOSTNAME = 'rebootless-guest';

const agentUnit = `[Unit]
Description=rebootless VM agent: runs the host's commands on /dev/ttyS1
After=network-online.target ssh.service
Wants=network-online.target

[Service]
Type=simple
Environment=HOME=/root TERM=dumb
ExecStart=${GUEST_AGENT_PATH}

[Install]
WantedBy=multi-user.target
`;

export function debianGuestFiles(o: { authorizedKey: string; agent: string }): GuestFileText[] {
  return [
    { path: '/etc/hostname', mode: 0o644, text: `${GUEST_HOSTNAME}\n` },
    { path: '/etc/hosts', mode: 0o644, text: `127.0.0.1 localhost\n127.0.1.1 ${GUEST_HOSTNAME}\n::1 localhost ip6-localhost ip6-loopback\n` },
    { path: '/etc/fstab', mode: 0o644, text: `LABEL=${ROOT_LABEL} / ext4 rw,errors=remount-ro 0 1\n` },
    { path: '/etc/systemd/network/50-dhcp.network', mode: 0o644, text: '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' },
    { path: '/root/.ssh/authorized_keys', mode: 0o600, text: `${o.authorizedKey}\n` },
    { path: '/etc/ssh/sshd_config.d/rebootless.conf', mode: 0o644, text: 'PermitRootLogin prohibit-password\nUseDNS no\n' },
    { path: '/etc/apt/apt.conf.d/99rebootless', mode: 0o644, text: 'APT::Install-Recommends "false";\n' },
    { path: GUEST_AGENT_PATH, mode: 0o755, text: o.agent },
    { path: '/etc/systemd/system/rebootless-agent.service', mode: 0o644, text: agentUnit },
  ];
}
