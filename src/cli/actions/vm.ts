import { troubleError } from '../../vm/console-scan.js';
import { cacheRoot } from '../../kernel/cache.js';
import { commandOfWords, parseFileSpec, runInVm } from '../../vm/run.js';
import type { CliContext, SetExit } from '../context.js';
import { printJson } from '../render.js';
import { positiveNumber } from './option-values.js';
import { workspaceFor } from './kernel/workspace.js';

export interface VmRunFlags {
  kernel?: string;
  file: string[];
  module: string[];
  withCli?: boolean;
  debian?: boolean;
  memory?: string;
  cpus?: string;
  timeout?: string;
  bootTimeout?: string;
  allowWarn?: boolean;
  console?: boolean;
  json?: boolean;
}

/** `rebootless vm run -- COMMAND...`. */
export async function vmRun(ctx: CliContext, setExit: SetExit, words: string[], f: VmRunFlags): Promise<void> {
  const memory = positiveNumber('--memory', f.memory);
  const cpus = positiveNumber('--cpus', f.cpus);
  const timeout = positiveNumber('--timeout', f.timeout) ?? 300;
  const bootTimeout = positiveNumber('--boot-timeout', f.bootTimeout) ?? (f.debian ? 300 : 120);
  const workspace = await workspaceFor(f.kernel);
  const json = f.json === true;
  const r = await runInVm({
    workspace,
    cacheRoot: cacheRoot(),
    command: commandOfWords(words),
    files: f.file.map(parseFileSpec),
    modules: f.module,
    ...(f.withCli ? { withCli: true } : {}),
    ...(f.debian ? { debian: true, progress: ctx.progress(json) } : {}),
    ...(memory ? { memoryMb: Math.round(memory) } : {}),
    ...(cpus ? { cpus: Math.round(cpus) } : {}),
    timeoutMs: timeout * 1000,
    bootTimeoutMs: bootTimeout * 1000,
    ...(f.allowWarn ? { allowWarn: true } : {}),
    ...(json ? {} : { onOutput: (c: string) => ctx.io.stdout.write(c) }),
    ...(f.console ? { onConsole: (c: string) => ctx.io.stderr.write(c) } : {}),
    signal: ctx.signal,
  });
  const trouble = r.failing.length ? troubleError(r.failing, r.excerpt) : undefined;
  if (r.bootRetried && !json) ctx.io.stderr.write(`rebootless: the first guest showed kernel trouble while booting (the emulator's, before anything ran); a second guest was used. It showed:\n${r.bootRetried}\n`);
  if (json) {
    printJson(ctx.io.stdout, {
      release: r.release,
      exitCode: r.exitCode,
      output: r.output,
      bootMs: r.bootMs,
      ...(r.bootRetried ? { bootRetried: r.bootRetried } : {}),
      commandMs: r.commandMs,
      trouble: r.trouble,
      ...(trouble ? { error: trouble.toJSON() } : {}),
    });
    setExit(trouble ? trouble.exitCode : r.exitCode);
    return;
  }
  if (trouble) throw trouble;
  setExit(r.exitCode);
}
