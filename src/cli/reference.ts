import type { Command } from 'commander';

/** Every command's --help text, in order: docs/cli.md is this (npm run docs). */
export function renderReference(program: Command): string {
  const out: string[] = [];
  const walk = (cmd: Command, prefix: string[]): void => {
    const name = [...prefix, cmd.name()];
    out.push(`### \`${name.join(' ')}\`\n\n\`\`\`\n${cmd.helpInformation().trimEnd()}\n\`\`\`\n`);
    for (const sub of cmd.commands) if (sub.name() !== 'help') walk(sub, name);
  };
  walk(program, []);
  return out.join('\n');
}
