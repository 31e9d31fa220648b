import { shellQuote } from '../util/shell.js';

// The guest's /init and its command agent, as shell text for busybox sh.
//
// Protocol on the agent port (/dev/ttyS1, raw mode, 8-bit clean):
//   host → guest:  "R <id> <nbytes>\n" then exactly nbytes of shell script
//   guest → host:  the script's stdout+stderr, then "\x1eRBL-END <nonce> <id> <status>\x1e"
//   at start-up:   "\x1eRBL-READY <nonce>\x1e"
// The nonce comes from the kernel command line, so no output can fake a marker.

export const AGENT_PORT = '/dev/ttyS1';
export const MARK = '\x1e';

export function initScript(): string {
  return `#!/bin/sh
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname rebootless-vm
exec /rbl/agent
`;
}

export function agentScript(): string {
  return `#!/bin/sh
port=${AGENT_PORT}
stty -F $port raw -echo
nonce=$(sed -n 's/.*rbl\\.nonce=\\([0-9a-f]*\\).*/\\1/p' /proc/cmdline)
exec 3<>$port
cd /root
printf '\\036RBL-READY %s\\036' "$nonce" >&3
while read -r tag id n <&3; do
  [ "$tag" = R ] || continue
  head -c "$n" <&3 > /run/rbl-cmd
  sh /run/rbl-cmd </dev/null >&3 2>&3
  printf '\\036RBL-END %s %s %s\\036' "$nonce" "$id" "$?" >&3
done
echo "rebootless agent: port closed" >&2
poweroff -f
`;
}

/** A script that writes base64 text to a guest path (for copying files in). */
export function copyInScript(guestPath: string, mode: number, base64: string): string {
  const q = shellQuote(guestPath);
  const lines = base64.match(/.{1,76}/g) ?? [];
  return `mkdir -p "$(dirname ${q})" && base64 -d > ${q} <<'RBL_EOF'\n${lines.join('\n')}\nRBL_EOF\nchmod ${mode.toString(8)} ${q}\n`;
}
