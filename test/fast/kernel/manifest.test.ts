import { tempDir } from '../../helpers/tmp.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RebootlessError } from '../../../src/errors/index.js';
import { PATH_FIELDS, isOutdatedWorkspace, parseManifest, readManifest, serializeManifest, writeManifest, type KernelWorkspace } from '../../../src/kernel/manifest.js';
import { cacheRoot } from '../../../src/kernel/cache.js';

function sample(dir: string): KernelWorkspace {
  const ws = {
    release: '6.1.0-9-cloud-amd64',
    debianVersion: '6.1.50-1',
    flavor: 'cloud-amd64',
    compiler: 'gcc-12 (Debian 12.2.0-14) 12.2.0',
    cc: 'gcc-12',
    packages: [{ name: 'linux-image-6.1.0-9-cloud-amd64', version: '6.1.50-1' }],
    fetchedAt: '2026-01-01T00:00:00.000Z',
  } as KernelWorkspace;
  for (const f of PATH_FIELDS) ws[f] = path.join(dir, 'x', f);
  ws.treeManifest = path.join(dir, 'tree-manifest');
  return ws;
}

describe('manifest', () => {
  it('round-trips, storing paths relative to the release directory', () => {
    const dir = '/cache/kernels/r';
    const text = serializeManifest(sample(dir), dir);
    expect(text).not.toContain('/cache/kernels/r');
    expect(parseManifest(text, dir)).toEqual(sample(dir));
    // the cache can move
    expect(parseManifest(text, '/elsewhere').vmlinux).toBe('/elsewhere/x/vmlinux');
    // the content manifest is beside it, by name: not stored
    expect(text).not.toContain('treeManifest');
    expect(parseManifest(text, '/elsewhere').treeManifest).toBe('/elsewhere/tree-manifest');
  });

  it.each([
    ['not json', 'not JSON'],
    ['[]', 'not an object'],
    ['{"schema":99}', 'schema 99'],
    ['{"schema":1,"release":"r"}', 'schema 1 is not 4'],
    ['{"schema":3,"release":"r"}', 'schema 3 is not 4'],
    ['{"schema":4,"release":"r"}', "field 'debianVersion'"],
  ])('rejects %s', (text, detail) => {
    expect(() => parseManifest(text, '/d')).toThrowError(detail);
  });

  it('rejects paths that leave the workspace', () => {
    const dir = '/d';
    const o = JSON.parse(serializeManifest(sample(dir), dir)) as Record<string, unknown>;
    o.vmlinux = '../../etc/passwd';
    expect(() => parseManifest(JSON.stringify(o), dir)).toThrowError('leaves the workspace');
  });

  it('reads back what it wrote only when every path exists', async () => {
    const dir = tempDir('rb-manifest-');
    const ws = sample(dir);
    await writeManifest(ws, dir);
    await expect(readManifest(dir)).rejects.toSatisfy((e) => e instanceof RebootlessError && e.code === 'MANIFEST_INVALID');
    mkdirSync(path.join(dir, 'x'), { recursive: true });
    for (const f of PATH_FIELDS) writeFileSync(ws[f], '');
    expect(await readManifest(dir)).toEqual(ws);
    expect(await readManifest(path.join(dir, 'nope'))).toBeUndefined();
  });

  it('tells a workspace of an older schema (to be fetched again) from a current or missing one', async () => {
    const dir = tempDir('rb-manifest-');
    expect(await isOutdatedWorkspace(dir)).toBe(false);
    writeFileSync(path.join(dir, 'manifest.json'), '{"schema":1,"release":"r"}');
    expect(await isOutdatedWorkspace(dir)).toBe(true);
    // schema 3: no content manifest of the tree
    writeFileSync(path.join(dir, 'manifest.json'), '{"schema":3,"release":"r"}');
    expect(await isOutdatedWorkspace(dir)).toBe(true);
    await writeManifest(sample(dir), dir);
    expect(await isOutdatedWorkspace(dir)).toBe(false);
  });
});

describe('cache root', () => {
  it('follows REBOOTLESS_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cacheRoot({ REBOOTLESS_CACHE: '/a', XDG_CACHE_HOME: '/b' }, '/h')).toBe('/a');
    expect(cacheRoot({ XDG_CACHE_HOME: '/b' }, '/h')).toBe('/b/rebootless');
    expect(cacheRoot({}, '/h')).toBe('/h/.cache/rebootless');
  });
});
