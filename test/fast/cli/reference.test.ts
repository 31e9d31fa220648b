import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_REFERENCE, regenerate } from '../../helpers/docs.js';

describe('docs/cli.md', () => {
  const doc = readFileSync(CLI_REFERENCE.file, 'utf8');
  const fresh = CLI_REFERENCE.render();

  it('is every command’s --help as it is today (run `npm run docs` to refresh)', () => {
    expect(regenerate(doc, CLI_REFERENCE)).toBe(doc);
  });

  it('covers every command and subcommand', () => {
    for (const name of ['rebootless', 'rebootless kernel fetch', 'rebootless vm run', 'rebootless build', 'rebootless apply', 'rebootless status', 'rebootless demo']) {
      expect(fresh).toContain(`### \`${name}\`\n`);
    }
    expect(fresh).toContain('Usage: rebootless build [options] <patch...>');
  });

  it('is caught when stale: help text that --help no longer prints does not survive', () => {
    const stale = doc.replace(CLI_REFERENCE.end, `  --old-option  removed since\n${CLI_REFERENCE.end}`);
    expect(stale).not.toBe(doc);
    expect(regenerate(stale, CLI_REFERENCE)).toBe(regenerate(doc, CLI_REFERENCE));
  });
});
