import { RebootlessError } from '../errors/index.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import type { Progress } from '../util/progress.js';
import type { Trouble } from './console-scan.js';
import type { GuestFile } from './initramfs.js';
import { Vm, type GuestCommand } from './session.js';

// One command in a fresh VM: `rebootless vm run`.

export interface VmRunOptions {
  workspace: KernelWorkspace;
  cacheRoot: string;
  command: GuestCommand;
  files?: GuestFile[];
  modules?: string[];
  withCli?: boolean;
  /** A Debian guest instead of the busybox one (Vm.start's `debian`). */
  debian?: boolean;
  progress?: Progress;
  memoryMb?: number;
  cpus?: number;
  timeoutMs?: number;
  bootTimeoutMs?: number;
  allowWarn?: boolean;
  onOutput?: (chunk: string) => void;
  onConsole?: (chunk: string) => void;
  signal?: AbortSignal;
}

export interface VmRunResult {
  release: string;
  exitCode: number;
  output: string;
  bootMs: number;
  /** Set when a first guest showed kernel trouble while booting and a second one was used (Vm.start). */
  bootRetried?: string;
  commandMs: number;
  /** Everything the console scanner found. */
  trouble: Trouble[];
  /** The part of it that fails the run (all but warnings with allowWarn). */
  failing: Trouble[];
  excerpt: string;
  pid: number;
}

/**
 * What `vm run -- WORDS…` runs: one word is a shell command line (pipes,
 * redirections, `&&`); several are a program and its arguments, run exactly
 * as given, as `docker run` and `kubectl exec` do.
 */
export const commandOfWords = (words: readonly string[]): GuestCommand => (words.length === 1 ? (words[0] as string) : words);

/** `HOST[:GUEST]` → a guest file; GUEST defaults to /root/<basename>. */
export function parseFileSpec(spec: string): GuestFile {
  const i = spec.indexOf(':');
  const host = i < 0 ? spec : spec.slice(0, i);
  const guest = i < 0 ? `/root/${host.split('/').pop() ?? host}` : spec.slice(i + 1);
  if (!host || !guest) throw new RebootlessError('USAGE', { detail: `--file expects HOST[:GUEST], got '${spec}'` });
  return { host, guest };
}

export async function runInVm(o: VmRunOptions): Promise<VmRunResult> {
  const vm = await Vm.start({
    workspace: o.workspace,
    cacheRoot: o.cacheRoot,
    ...(o.files ? { files: o.files } : {}),
    ...(o.modules ? { modules: o.modules } : {}),
    ...(o.withCli ? { withCli: true } : {}),
    ...(o.debian ? { debian: true } : {}),
    ...(o.progress ? { progress: o.progress } : {}),
    ...(o.memoryMb ? { memoryMb: o.memoryMb } : {}),
    ...(o.cpus ? { cpus: o.cpus } : {}),
    ...(o.bootTimeoutMs ? { bootTimeoutMs: o.bootTimeoutMs } : {}),
    ...(o.onConsole ? { onConsole: o.onConsole } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const abort = (): void => void vm.stop();
  o.signal?.addEventListener('abort', abort, { once: true });
  // a signal that came while the VM booted has no listener to tell
  if (o.signal?.aborted) abort();
  try {
    const r = await vm.run(o.command, { ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}), ...(o.onOutput ? { onOutput: o.onOutput } : {}) });
    // let late console lines (a WARNING right after the command) arrive
    await new Promise((res) => setTimeout(res, 200));
    const report = await vm.stop();
    const failing = report.trouble.filter((t) => !(o.allowWarn && t.kind === 'warning'));
    return {
      release: o.workspace.release,
      exitCode: r.exitCode,
      output: r.output,
      bootMs: vm.bootMs,
      ...(vm.bootRetried ? { bootRetried: vm.bootRetried } : {}),
      commandMs: r.ms,
      trouble: report.trouble,
      failing,
      excerpt: vm.excerpt(failing),
      pid: vm.pid,
    };
  } catch (e) {
    if (o.signal?.aborted) throw new RebootlessError('INTERRUPTED', { signal: String(o.signal.reason ?? 'SIGINT') });
    throw e;
  } finally {
    o.signal?.removeEventListener('abort', abort);
    await vm.stop();
  }
}
