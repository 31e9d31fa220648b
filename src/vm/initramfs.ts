import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RebootlessError } from '../errors/index.js';
import { pathExists, removePath } from '../util/fs.js';
import { runCommand } from '../util/process.js';
import { writeCpio, type CpioEntry } from './cpio.js';
import { agentScript, initScript } from './guest-scripts.js';
import { readModulesDep, resolveModules } from '../kernel/module-files.js';
import { renderModulesDep } from './modules.js';

// Builds the guest's initramfs: busybox, /init and the agent, the requested
// files and modules, and optionally Node with this package. Images are
// cached by a hash of everything that goes in.

export interface GuestFile {
  host: string;
  guest: string;
}

export interface InitramfsOptions {
  release: string;
  modulesDir: string;
  files?: GuestFile[];
  modules?: string[];
  withCli?: boolean;
  /** Directory for cached images. */
  cacheDir: string;
  busybox?: string;
}

export const GUEST_CLI_ROOT = '/opt/rebootless';
/** Drivers of the bulk data port, always shipped (loaded by the first copy-in). */
export const DATA_PORT_MODULES = ['virtio_pci', 'virtio_console'];
const RESERVED = ['/init', '/rbl/agent', '/bin/busybox'];

/** The rebootless checkout or installed package this code runs from. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

async function hostFile(source: string, guest: string, mode?: number): Promise<CpioEntry> {
  const st = await fsp.stat(source).catch(() => null);
  if (!st?.isFile()) throw new RebootlessError('VM_FILE_MISSING', { path: source });
  return { kind: 'hostfile', path: guest, mode: mode ?? st.mode & 0o7777, source, size: st.size };
}

async function busyboxEntries(busybox: string): Promise<CpioEntry[]> {
  if (!(await pathExists(busybox))) throw new RebootlessError('TOOL_MISSING', { tool: 'busybox (static)', packageName: 'busybox-static' });
  const { stdout } = await runCommand(busybox, ['--list-full']);
  const out: CpioEntry[] = [await hostFile(busybox, '/bin/busybox', 0o755)];
  for (const rel of stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
    const p = `/${rel}`;
    if (p !== '/bin/busybox') out.push({ kind: 'symlink', path: p, target: '/bin/busybox' });
  }
  return out;
}

/** The shared libraries `ldd` lists for a program, plus the loader. */
export function parseLdd(text: string): string[] {
  const libs = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1] as string);
  }
  return [...libs];
}

async function walk(dir: string, keep: (p: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, keep)));
    else if (e.isFile() && keep(p)) out.push(p);
  }
  return out;
}

/** Node, its libraries, this package's build and production dependencies, and /usr/bin/rebootless. */
async function cliEntries(): Promise<CpioEntry[]> {
  const root = packageRoot();
  // the installed command: the bundle `npm run build` writes (scripts/bundle.mjs)
  const main = path.join(root, 'dist', 'bin', 'rebootless.js');
  if (!(await pathExists(main))) throw new RebootlessError('VM_CLI_NOT_BUILT', { path: main });
  const node = process.execPath;
  const out: CpioEntry[] = [await hostFile(node, '/usr/bin/node', 0o755)];
  const { stdout } = await runCommand('ldd', [node]);
  for (const lib of parseLdd(stdout)) out.push(await hostFile(await fsp.realpath(lib), lib, 0o755));
  const lock = JSON.parse(await fsp.readFile(path.join(root, 'package-lock.json'), 'utf8').catch(() => '{}')) as {
    packages?: Record<string, { dev?: boolean }>;
  };
  const prodDirs = Object.entries(lock.packages ?? {})
    .filter(([k, v]) => k.startsWith('node_modules/') && v.dev !== true)
    .map(([k]) => path.join(root, k));
  const keep = (p: string): boolean => !/\.(map|d\.ts|md|ts)$/.test(p) || p.endsWith('.js');
  const files = [path.join(root, 'package.json'), ...(await walk(path.join(root, 'dist'), keep))];
  for (const d of prodDirs) if (await pathExists(d)) files.push(...(await walk(d, keep)));
  for (const f of files) out.push(await hostFile(f, path.posix.join(GUEST_CLI_ROOT, path.relative(root, f))));
  out.push({
    kind: 'file',
    path: '/usr/bin/rebootless',
    mode: 0o755,
    data: Buffer.from(`#!/bin/sh\nexec /usr/bin/node ${GUEST_CLI_ROOT}/${path.relative(root, main)} "$@"\n`),
  });
  return out;
}

/** Every directory an entry needs, parents first. */
function directories(entries: readonly CpioEntry[]): CpioEntry[] {
  const dirs = new Set<string>(['/proc', '/sys', '/dev', '/tmp', '/run', '/root', '/etc', '/rbl', '/mnt']);
  for (const e of entries) {
    let d = path.posix.dirname(e.path);
    while (d !== '/' && d !== '.') {
      dirs.add(d);
      d = path.posix.dirname(d);
    }
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b)).map((p) => ({ kind: 'dir' as const, path: p }));
}

export async function initramfsEntries(o: InitramfsOptions): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [
    ...(await busyboxEntries(o.busybox ?? '/bin/busybox')),
    { kind: 'file', path: '/init', mode: 0o755, data: Buffer.from(initScript()) },
    { kind: 'file', path: '/rbl/agent', mode: 0o755, data: Buffer.from(agentScript()) },
  ];
  const owner = new Map<string, string>(RESERVED.map((p) => [p, 'rebootless itself']));
  const claim = (guest: string, who: string): void => {
    const prev = owner.get(guest);
    if (prev !== undefined) throw new RebootlessError('VM_PATH_COLLISION', { guestPath: guest, first: prev, second: who });
    owner.set(guest, who);
  };
  {
    const deps = await readModulesDep(o.modulesDir);
    // built-in drivers (another kernel config) are simply not in modules.dep
    const paths = resolveModules(deps, [...DATA_PORT_MODULES.filter((m) => deps.has(m)), ...(o.modules ?? [])], o.release);
    const base = `/lib/modules/${o.release}`;
    for (const p of paths) entries.push(await hostFile(path.join(o.modulesDir, p), `${base}/${p}`, 0o644));
    entries.push({ kind: 'file', path: `${base}/modules.dep`, mode: 0o644, data: Buffer.from(renderModulesDep(deps, paths)) });
    for (const p of paths) owner.set(`${base}/${p}`, 'a kernel module');
  }
  if (o.withCli) {
    const cli = await cliEntries();
    for (const e of cli) owner.set(e.path, 'the rebootless CLI');
    entries.push(...cli);
  }
  for (const f of o.files ?? []) {
    const guest = path.posix.resolve('/', f.guest);
    claim(guest, f.host);
    entries.push(await hostFile(f.host, guest));
  }
  return [...directories(entries), ...entries];
}

async function hashFile(file: string, h: ReturnType<typeof createHash>): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
}

/** Content hash of an image: names, modes, link targets and every byte that goes in. */
export async function hashEntries(entries: readonly CpioEntry[]): Promise<string> {
  const h = createHash('sha256');
  for (const e of entries) {
    h.update(`${e.kind}\0${e.path}\0`);
    if (e.kind === 'dir') h.update(String(e.mode ?? 0o755));
    else if (e.kind === 'symlink') h.update(e.target);
    else if (e.kind === 'file') h.update(`${e.mode}\0${e.data.length}\0`).update(e.data);
    else {
      h.update(`${e.mode}\0${e.size}\0`);
      await hashFile(e.source, h);
    }
    h.update('\n');
  }
  return h.digest('hex').slice(0, 32);
}

const KEEP_IMAGES = 12;

/** The cached image for these options, built if missing. */
export async function buildInitramfs(o: InitramfsOptions): Promise<{ path: string; cached: boolean }> {
  const entries = await initramfsEntries(o);
  const hash = await hashEntries(entries);
  await fsp.mkdir(o.cacheDir, { recursive: true });
  const file = path.join(o.cacheDir, `${hash}.cpio`);
  if (await pathExists(file)) {
    const now = new Date();
    await fsp.utimes(file, now, now).catch(() => undefined);
    return { path: file, cached: true };
  }
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeCpio(tmp, entries);
    await fsp.rename(tmp, file);
  } finally {
    await removePath(tmp);
  }
  await pruneImages(o.cacheDir);
  return { path: file, cached: false };
}

async function pruneImages(dir: string): Promise<void> {
  const names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.cpio'));
  if (names.length <= KEEP_IMAGES) return;
  const stats = await Promise.all(names.map(async (n) => ({ n, t: (await fsp.stat(path.join(dir, n))).mtimeMs })));
  stats.sort((a, b) => b.t - a.t);
  for (const s of stats.slice(KEEP_IMAGES)) await removePath(path.join(dir, s.n));
}
