import { readdir } from 'node:fs/promises';
import { RebootlessError } from '../errors/index.js';
import { pathExists } from '../util/fs.js';
import { hostPath, readTextIfAny, type LiveHost } from './host.js';
import { moduleName } from '../util/module-name.js';

// Loading and unloading modules, and what /sys/module says about them.

export interface LoadOptions {
  /** Give up retrying EBUSY at this time (host.now() clock). */
  deadline: number;
  signal?: AbortSignal;
  onRetry?: (reason: string) => void;
}

/** The errno text at the end of an insmod/rmmod message (kmod and busybox word it differently). */
export function failureReason(output: string): string {
  const line = output.trim().split('\n').filter(Boolean).at(-1) ?? '';
  const m = /:\s*([^:]+)$/.exec(line);
  return (m?.[1] ?? line).trim() || 'unknown error';
}

const BUSY = /Device or resource busy|Resource temporarily unavailable|in use/i;

/** insmod/rmmod not installed: say which package brings them. */
function checkTool(file: string, r: { exitCode: number; output: string }): void {
  if (r.exitCode === 127 && /not found/i.test(r.output)) throw new RebootlessError('TOOL_MISSING', { tool: file, packageName: 'kmod' });
}

/** Backoff between retries: 100 ms doubling to 2 s. */
export const backoff = (attempt: number): number => Math.min(2000, 100 * 2 ** attempt);

/** insmod, retrying while the livepatch core says EBUSY (another transition) until the deadline. */
export async function loadModule(h: LiveHost, file: string, o: LoadOptions): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const r = await h.exec('insmod', [file]);
    if (r.exitCode === 0) return;
    checkTool('insmod', r);
    const reason = failureReason(r.output);
    if (!BUSY.test(reason) || h.now() >= o.deadline || o.signal?.aborted) {
      throw new RebootlessError('MODULE_LOAD_FAILED', { file, reason: explainLoadFailure(reason), output: r.output });
    }
    o.onRetry?.(reason);
    await h.sleep(backoff(attempt), o.signal);
  }
}

function explainLoadFailure(reason: string): string {
  if (/Invalid module format|Exec format error/i.test(reason)) return `${reason} (the module does not match the running kernel: vermagic or symbol versions differ)`;
  if (/Key was rejected|Required key not available/i.test(reason)) return `${reason} (module signature not accepted)`;
  if (/Operation not permitted/i.test(reason)) return `${reason} (kernel lockdown or module loading disabled by kernel.modules_disabled)`;
  if (/Unknown symbol/i.test(reason)) return `${reason} (a symbol the patch needs is not exported by the running kernel)`;
  return reason;
}

/** rmmod, retrying while the module is still referenced, until the deadline. */
export async function unloadModule(h: LiveHost, name: string, o: LoadOptions): Promise<void> {
  const started = h.now();
  for (let attempt = 0; ; attempt++) {
    if (!(await moduleLoaded(h, name))) return;
    const r = await h.exec('rmmod', [name]);
    if (r.exitCode === 0) return;
    checkTool('rmmod', r);
    if (h.now() >= o.deadline || o.signal?.aborted) {
      throw new RebootlessError('MODULE_UNLOAD_FAILED', { name, output: failureReason(r.output), seconds: Math.round((h.now() - started) / 1000) });
    }
    o.onRetry?.(failureReason(r.output));
    await h.sleep(backoff(attempt), o.signal);
  }
}

export const moduleLoaded = (h: LiveHost, name: string): Promise<boolean> => pathExists(hostPath(h, 'sys/module', moduleName(name), 'initstate'));

/** Taint letters of one module (/sys/module/NAME/taint: 'K' livepatch, 'O' out of tree, 'E' unsigned ...). */
export async function moduleTaint(h: LiveHost, name: string): Promise<string> {
  return (await readTextIfAny(hostPath(h, 'sys/module', moduleName(name), 'taint')))?.trim() ?? '';
}

/** Loaded modules tainted 'K': every livepatch module, enabled or left over. */
export async function livepatchModules(h: LiveHost): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(hostPath(h, 'sys/module'));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) if ((await moduleTaint(h, n)).includes('K')) out.push(n);
  return out;
}
