import { accessSync, constants, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { runCommand } from '../util/process.js';

// The QEMU command line (pure), and whether KVM really works here.

export interface QemuOptions {
  kernel: string;
  initrd: string;
  agentSocket: string;
  /** Bulk channel (virtio-serial port `rbl.data`) for copying files in. */
  dataSocket: string;
  memoryMb: number;
  cpus: number;
  nonce: string;
  kvm: boolean;
  extraAppend?: string;
  /** A Debian guest: its root disk (raw, opened in snapshot mode: writes are thrown away with QEMU). */
  disk?: string;
  /** Host loopback port forwarded to the guest's SSH port (with a disk). */
  sshPort?: number;
}

/** The label of the Debian guest's root file system (debian-guest-files.ts). */
export const ROOT_LABEL = 'rebootless-root';

export const QEMU = 'qemu-system-x86_64';
export const DATA_PORT_NAME = 'rbl.data';

/** The CPU model under software emulation: QEMU's default, without cmpxchg16b (see qemuArgs). */
export const TCG_CPU = 'qemu64,-cx16';

export function kvmDevicePresent(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const PROBE_TIMEOUT_MS = 10_000;

/**
 * KVM when /dev/kvm exists and a guest actually runs on it. Some hosts (nested
 * virtualization) expose /dev/kvm but hang every guest, so the first VM on a
 * host boots the kernel once under KVM to power off; the verdict is
 * remembered per host kernel and QEMU build. REBOOTLESS_ACCEL=kvm|tcg forces it.
 */
export async function useKvm(cacheRoot: string, kernel: string, initrd: string, env = process.env): Promise<boolean> {
  if (env.REBOOTLESS_ACCEL === 'tcg') return false;
  if (env.REBOOTLESS_ACCEL === 'kvm') return true;
  if (!kvmDevicePresent()) return false;
  const qemuPath = (await runCommand('sh', ['-c', `command -v ${QEMU}`])).stdout.trim();
  const st = await fsp.stat(qemuPath);
  const key = `${os.release()}|${qemuPath}|${st.size}|${st.mtimeMs}`;
  const file = path.join(cacheRoot, 'kvm-probe.json');
  try {
    const v = JSON.parse(await fsp.readFile(file, 'utf8')) as { key?: string; kvm?: boolean };
    if (v.key === key && typeof v.kvm === 'boolean') return v.kvm;
  } catch {
    // not probed yet
  }
  const ok = await runCommand('timeout', [
    '-s',
    'KILL',
    String(PROBE_TIMEOUT_MS / 1000),
    QEMU,
    '-nodefaults',
    '-display',
    'none',
    '-no-reboot',
    '-machine',
    'pc,accel=kvm',
    '-m',
    '256',
    '-kernel',
    kernel,
    '-initrd',
    initrd,
    '-append',
    'console=ttyS0 panic=-1 loglevel=1 rdinit=/bin/busybox -- poweroff -f',
  ]).then(
    () => true,
    () => false,
  );
  await fsp.mkdir(cacheRoot, { recursive: true });
  await writeFileAtomic(file, JSON.stringify({ key, kvm: ok }) + '\n');
  return ok;
}

export function qemuArgs(o: QemuOptions): string[] {
  const append = [
    'console=ttyS0',
    // warnings (level 4) and worse reach the console, boot chatter does not
    'loglevel=5',
    'panic=-1',
    ...(o.disk ? [`root=LABEL=${ROOT_LABEL}`, 'rw'] : ['rdinit=/init']),
    `rbl.nonce=${o.nonce}`,
    ...(o.extraAppend ? [o.extraAppend] : []),
  ].join(' ');
  return [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    // a Debian guest reboots in place (its patches come back at boot); the busybox guest never does
    ...(o.disk ? [] : ['-no-reboot']),
    '-machine',
    'pc',
    '-accel',
    // One host thread runs all vCPUs in turn: the guest is still SMP, but QEMU 7.2's multi-threaded TCG
    // lets a vCPU run code another vCPU has just rewritten (text_poke's int3 seen after it was removed:
    // an oops in a livepatch transition once in a few dozen runs).
    o.kvm ? 'kvm' : 'tcg,thread=single',
    // Under TCG, QEMU 7.2's cmpxchg16b corrupts EFLAGS (a stray trap flag): 6.12's SLUB uses it on
    // every allocation and dies at boot. Without cx16 the kernel takes its locked fallback.
    ...(o.kvm ? ['-cpu', 'host'] : ['-cpu', TCG_CPU]),
    '-m',
    String(o.memoryMb),
    '-smp',
    String(o.cpus),
    '-kernel',
    o.kernel,
    '-initrd',
    o.initrd,
    '-append',
    append,
    // ttyS0: the console, on QEMU's stdout
    '-chardev',
    'stdio,id=console,signal=off',
    '-serial',
    'chardev:console',
    // ttyS1: the command agent, on a unix socket
    '-chardev',
    `socket,id=agent,path=${o.agentSocket},server=on,wait=off`,
    '-serial',
    'chardev:agent',
    // a fast byte pipe for files; its guest driver is loaded on first use
    '-device',
    'virtio-serial-pci,id=vser',
    '-chardev',
    `socket,id=data,path=${o.dataSocket},server=on,wait=off`,
    '-device',
    `virtserialport,bus=vser.0,chardev=data,name=${DATA_PORT_NAME}`,
    ...(o.disk ? diskArgs(o.disk, o.sshPort) : []),
  ];
}

function diskArgs(disk: string, sshPort: number | undefined): string[] {
  return [
    '-drive',
    `file=${disk},if=virtio,format=raw,snapshot=on`,
    '-netdev',
    `user,id=net0${sshPort ? `,hostfwd=tcp:127.0.0.1:${sshPort}-:22` : ''}`,
    '-device',
    'virtio-net-pci,netdev=net0',
  ];
}
