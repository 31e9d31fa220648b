import os from 'node:os';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';

// The live machine rebootless manages, as paths and two primitives. Tests
// point `root` at a fake tree; the real host is rooted at '/'.

export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface LiveHost {
  /** '/' on a real machine. */
  root: string;
  /** The running kernel release (uname -r). */
  release(): string;
  isRoot(): boolean;
  /** Runs a program (insmod, rmmod, systemctl) and returns its exit code and combined output. */
  exec(file: string, args: readonly string[]): Promise<ExecResult>;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function execCombined(file: string, args: readonly string[]): Promise<ExecResult> {
  // loaded here, not at the top: status and list read files only
  const { runCombined } = await import('../util/process.js');
  return runCombined(file, args);
}

export function liveHost(): LiveHost {
  return {
    root: '/',
    release: () => os.release(),
    isRoot: () => process.getuid?.() === 0,
    exec: execCombined,
    now: () => Date.now(),
    sleep,
  };
}

/** A host path: `hostPath(h, 'sys/kernel/livepatch')`. */
export const hostPath = (h: LiveHost, ...parts: string[]): string => path.join(h.root, ...parts);

/**
 * A file's whole text, read until end of file rather than up to the size stat reports: /proc files say
 * size 0, and Node 18's promise readFile (Debian 12's nodejs) then returns only the first read's bytes
 * (4 KB of /proc/kallsyms's megabytes). One buffer is reused and each read's bytes copied out: /proc
 * gives a page per read, and keeping a fresh megabyte buffer per page commits gigabytes, enough for
 * the next fork (insmod) to fail with ENOMEM on a small host.
 */
async function readToEnd(p: string): Promise<string> {
  const fh = await open(p, 'r');
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.allocUnsafe(1 << 16);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** A sysfs/proc/state file's text, or undefined when it is absent or vanished (tasks exit, patches are freed). */
export async function readTextIfAny(p: string): Promise<string | undefined> {
  try {
    return await readToEnd(p);
  } catch {
    return undefined;
  }
}

/** The subdirectory names of `dir`, sorted; none when it does not exist. */
export async function subdirectories(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

// the runtime's modules are named as everywhere else: '-' and '_' alike
