import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedObject, storeObject } from '../../../src/kbuild/object-cache.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-objcache-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the original-object cache', () => {
  const key = { object: 'fs/proc/version.o', record: 'gcc -c -o fs/proc/version.o fs/proc/version.c', source: 'int x;\n' };
  const bytes = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]);

  it('gives back what was stored for the same record and source', async () => {
    await storeObject(dir, key, bytes);
    expect(await cachedObject(dir, key)).toEqual(bytes);
  });

  it('misses when the record (flags, compiler) or the source differ', async () => {
    expect(await cachedObject(dir, { ...key, record: `${key.record} -O3` })).toBeUndefined();
    expect(await cachedObject(dir, { ...key, source: 'int y;\n' })).toBeUndefined();
    expect(await cachedObject(dir, { ...key, object: 'fs/proc/cmdline.o' })).toBeUndefined();
  });

  it('misses when the stored object was changed behind its back', async () => {
    writeFileSync(path.join(dir, 'objects', key.object), new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 4]));
    expect(await cachedObject(dir, key)).toBeUndefined();
  });
});
