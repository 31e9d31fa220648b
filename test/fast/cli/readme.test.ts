import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliReferenceBlock, replaceReference } from '../../helpers/readme.js';

describe('README', () => {
  const readme = readFileSync('README.md', 'utf8');

  it('has a CLI reference that matches --help (run `npm run readme` to refresh)', () => {
    expect(replaceReference(readme, cliReferenceBlock())).toBe(readme);
  });

  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm ci && npx rebootless demo');
    expect(readme).toContain('npm ci && npm test');
  });
});
