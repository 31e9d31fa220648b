import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldersWithoutRule, LAYER_TABLE, layerRules, layerTable, regenerate, sourceFolders } from '../helpers/docs.js';

const read = (f: string): string => readFileSync(f, 'utf8');
const docs = readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);

describe('README', () => {
  const readme = read('README.md');

  it('fits a newcomer: at most 250 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('gives exactly the two set-up commands, and no others', () => {
    const setup = /## Set-up: the two commands\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = setup.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
    expect(commands).toEqual(['npm ci && npx rebootless demo', 'npm ci && npm test']);
  });

  it('links every doc under docs/', () => {
    for (const d of docs) expect(readme, d).toContain(`](${d})`);
  });
});

describe('links in README.md and docs/', () => {
  it('point at files that exist', () => {
    const broken: string[] = [];
    for (const f of ['README.md', ...docs]) {
      for (const m of read(f).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue;
        if (!existsSync(path.join(path.dirname(f), target))) broken.push(`${f}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the layer table', () => {
  const rules = layerRules();
  const layers = Object.keys(rules.allowed);

  it('in docs/architecture.md is the one .dependency-cruiser.cjs defines (run `npm run docs` to refresh)', () => {
    const doc = read(LAYER_TABLE.file);
    expect(regenerate(doc, LAYER_TABLE)).toBe(doc);
  });

  it('would be caught out of date: a changed rule renders differently', () => {
    const changed = { ...rules, allowed: { ...rules.allowed, runtime: [...(rules.allowed.runtime ?? []), 'kernel'] } };
    expect(layerTable(changed)).not.toBe(layerTable(rules));
  });

  it('has a rule for every folder under src/ (only cli/, the top, may import everything)', () => {
    expect(rules.top).toBe('cli');
    expect(foldersWithoutRule(rules), 'add each folder to the layer table in .dependency-cruiser.cjs').toEqual([]);
  });

  it('would catch a new folder without a rule, and counts subfolders with their layer', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rb-layers-'));
    try {
      for (const f of ['elf/model.ts', 'arch/x86_64/relocations.ts', 'klp/verify/index.ts', 'cli/main.ts', 'index.ts', 'newthing/a.ts']) {
        mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
        writeFileSync(path.join(root, f), '');
      }
      expect(sourceFolders(root)).toEqual(['arch/x86_64', 'cli', 'elf', 'klp/verify', 'newthing']);
      expect(foldersWithoutRule(rules, root)).toEqual(['newthing']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names only folders that exist under src/', () => {
    const missing = layers.filter((l) => !existsSync(path.join('src', l)));
    expect(missing, 'a rule for a folder that is gone protects nothing: remove or rename it').toEqual([]);
  });

  it('only lets a layer import layers of the table', () => {
    for (const [layer, deps] of Object.entries(rules.allowed)) {
      for (const d of deps) expect(layers, `${layer} → ${d}`).toContain(d);
    }
  });
});
