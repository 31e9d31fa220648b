import type { Command } from 'commander';
import type { DumpFlags } from '../actions/elf.js';
import type { CliContext, SetExit } from '../context.js';

export function registerElf(program: Command, ctx: CliContext, setExit: SetExit): void {
  const elf = program.command('elf').description('inspect and rewrite ELF objects, modules and vmlinux with rebootless\'s own ELF layer');

  elf
    .command('dump')
    .description('print section headers, symbols and relocations, in the columns of readelf -SW / -sW / -rW (all three unless one is chosen); a vmlinux is read only in the parts needed')
    .argument('<file>', 'an object (.o), module (.ko) or vmlinux')
    .option('--sections', 'section headers (readelf -SW)')
    .option('--symbols', 'symbol table (readelf -sW)')
    .option('--relocs', 'relocations (readelf -rW)')
    .option('--json', 'print as JSON')
    .action(async (path: string, opts: DumpFlags) => (await import('../actions/elf.js')).elfDump(ctx, setExit, path, opts));

  elf
    .command('rewrite')
    .description('parse a relocatable object or module and write it back (byte-identical when nothing changed); a check of the ELF writer')
    .argument('<in>', 'input object or module')
    .argument('<out>', 'output path (written through a temp file and a rename)')
    .option('--relayout', 'lay the output out afresh instead of keeping the original offsets')
    .option('--json', 'print the result as JSON')
    .action(async (input: string, output: string, opts: { relayout?: boolean; json?: boolean }) => (await import('../actions/elf.js')).elfRewrite(ctx, setExit, input, output, opts));
}
