import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { registerElf } from '../../src/cli/commands/elf.js';
import { createContext } from '../../src/cli/context.js';
import { reportError } from '../../src/cli/render.js';
import type { CliRun } from './cli.js';

/**
 * Runs `rebootless elf ...` in-process with captured output, on a program
 * that has only the elf commands (so these tests do not depend on the
 * program wiring them in).
 */
export async function elfCli(args: string[]): Promise<CliRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const ctx = createContext({ stdout: out, stderr: err }, new AbortController().signal, {});
  let code = 0;
  const program = new Command('rebootless')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.write(s), writeErr: (s) => err.write(s) });
  registerElf(program, ctx, (c) => (code = c));
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 64;
    else code = reportError(e, args.includes('--json'), ctx.io);
  }
  await new Promise((r) => setImmediate(r));
  return { code, stdout, stderr };
}
