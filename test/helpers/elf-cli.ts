import { cli, type CliRun } from './cli.js';

/** Runs `rebootless elf ...` in-process with captured output. */
export function elfCli(args: string[]): Promise<CliRun> {
  return cli(args);
}
