import { Command, CommanderError } from 'commander';
import type * as commander from 'commander';
import { registerApply } from './commands/apply.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerBuild } from './commands/build.js';
import { registerDiff } from './commands/diff.js';
import { registerElf } from './commands/elf.js';
import { registerInstall } from './commands/install.js';
import { registerKernel } from './commands/kernel.js';
import { registerPackage } from './commands/package.js';
import { registerPredict } from './commands/predict.js';
import { registerStatus } from './commands/status.js';
import { registerTry } from './commands/try.js';
import { registerVerify } from './commands/verify.js';
import { registerVm } from './commands/vm.js';
import type { CliContext, SetExit } from './context.js';
import { packageVersion } from './version.js';

// Every command is registered on every start (its name, arguments, options and
// help text), and what it does is loaded only when it runs: each action imports
// its file under actions/. So `--help`, `--version` and the light commands load
// neither the instruction decoder, nor kbuild, nor the pipeline; nor, until
// something fails, the error catalog.

// commander is imported, so that the installed command (scripts/bundle.mjs) carries it in its own file.
export { packageVersion };

export function buildProgram(ctx: CliContext, setExit: SetExit): commander.Command {
  const program = new Command('rebootless')
    .description('turn a kernel source diff into a live patch, prove it in a VM, apply it without a reboot')
    .version(packageVersion(), '-V, --version')
    // the program's own options only before the command: `package --version V` is the package's
    .enablePositionalOptions()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .exitOverride();
  registerDoctor(program, ctx, setExit);
  registerKernel(program, ctx, setExit);
  registerVm(program, ctx, setExit);
  registerBuild(program, ctx, setExit);
  registerVerify(program, ctx, setExit);
  registerTry(program, ctx, setExit);
  registerElf(program, ctx, setExit);
  registerDiff(program, ctx, setExit);
  registerPredict(program, ctx, setExit);
  registerApply(program, ctx, setExit);
  registerStatus(program, ctx, setExit);
  registerInstall(program, ctx, setExit);
  registerPackage(program, ctx, setExit);
  registerDemo(program, ctx, setExit);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the CLI on argv (without node and script) and returns the exit code. Never exits. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let code = 0;
  const program = buildProgram(ctx, (c) => (code = c));
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors; commander has printed them already
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (!json) return 64;
      const [{ RebootlessError }, { reportError }] = await Promise.all([import('../errors/index.js'), import('./render.js')]);
      return reportError(new RebootlessError('USAGE', { detail: e.message.replace(/^error: /, '') }), true, ctx.io);
    }
    const { reportError } = await import('./render.js');
    return reportError(e, json, ctx.io);
  }
}
