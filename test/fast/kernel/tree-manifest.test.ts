import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RebootlessError } from '../../../src/errors/index.js';
import type { KernelWorkspace } from '../../../src/kernel/manifest.js';
import { entryOfLine, lineOf, parseTreeManifest, recordTree, serializeTreeManifest, TREE_MANIFEST_FILE, writeTreeManifest, type TreeManifest } from '../../../src/kernel/tree-manifest.js';
import { formatStat, parseStat, type FileFacts } from '../../../src/util/tree-scan.js';
import { checkPath, decimalBefore, lineVouches, renderTreeVerify, statVouches, treeModifiedError, verifyTree } from '../../../src/kernel/tree-verify.js';

// A small prepared tree: files in nested directories, an executable, a symlink, an empty directory.
const FILES: Record<string, string> = {
  Makefile: 'all:\n',
  '.config': 'CONFIG_LIVEPATCH=y\n',
  'fs/proc/cmdline.c': 'int cmdline;\n',
  'fs/proc/version.c': 'int version;\n',
  'include/generated/autoconf.h': '#define CONFIG_LIVEPATCH 1\n',
  'scripts/mod/modpost': '\x7fELF modpost',
};
const HOUR_AGO = Date.now() / 1000 - 3600;

/** Sets a path's times an hour back without following a symlink's target. */
const age = (p: string): void => utimesSync(p, HOUR_AGO, HOUR_AGO);

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

async function prepared(): Promise<{ tree: string; ws: KernelWorkspace; m: TreeManifest }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-tree-'));
  made.push(dir);
  const tree = path.join(dir, 'source', 'linux');
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
    writeFileSync(path.join(tree, rel), text);
    // written well before the record: a quick verify may trust the stat (not a "racy" file)
    age(path.join(tree, rel));
  }
  chmodSync(path.join(tree, 'scripts/mod/modpost'), 0o755);
  symlinkSync('../../include/generated/autoconf.h', path.join(tree, 'fs/proc/autoconf.h'));
  mkdirSync(path.join(tree, 'empty'));
  const ws = {
    release: '6.1.0-9-cloud-amd64',
    debianVersion: '6.1.50-1',
    sourceTree: tree,
    treeManifest: path.join(dir, TREE_MANIFEST_FILE),
  } as KernelWorkspace;
  const m = await recordTree(tree);
  await writeTreeManifest(ws.treeManifest as string, m);
  return { tree, ws, m };
}

/** Writes without changing the size, then (optionally) puts the old mtime back. */
function sameSizeWrite(file: string, restoreMtime: boolean): void {
  const before = statSync(file);
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace('cmdline', 'cmdLine'));
  expect(statSync(file).size).toBe(before.size);
  if (restoreMtime) utimesSync(file, before.atime, before.mtime);
}

const differences = (r: Awaited<ReturnType<typeof verifyTree>>) => ({
  changed: r.changed.first,
  added: r.added.first,
  removed: r.removed.first,
  modeChanged: r.modeChanged.first,
});
const NONE = { changed: [], added: [], removed: [], modeChanged: [] };

describe('tree manifest: record', () => {
  it('lists every file (mode, size, sha256) and symlink (target), sorted; no directories', async () => {
    const { m } = await prepared();
    expect(m.entries.map((e) => e.path)).toEqual([
      '.config',
      'Makefile',
      'fs/proc/autoconf.h',
      'fs/proc/cmdline.c',
      'fs/proc/version.c',
      'include/generated/autoconf.h',
      'scripts/mod/modpost',
    ]);
    expect(m.entries.find((e) => e.path === 'fs/proc/autoconf.h')).toEqual({ path: 'fs/proc/autoconf.h', kind: 'symlink', target: '../../include/generated/autoconf.h' });
    expect(m.entries.find((e) => e.path === 'scripts/mod/modpost')).toMatchObject({ kind: 'file', mode: 0o755, size: 12 });
    expect(m.entries.find((e) => e.path === 'Makefile')).toMatchObject({
      kind: 'file',
      mode: 0o644,
      size: 5,
      // printf 'all:\n' | sha256sum
      sha256: 'dadd6bd529dc891f2252764150177c3d2ef3124745fcab282c4a12ed797f6e47',
    });
  });

  it('hashes as sha256sum does', async () => {
    const { m, tree } = await prepared();
    const { createHash } = await import('node:crypto');
    for (const e of m.entries) {
      if (e.kind === 'file') expect(e.sha256, e.path).toBe(createHash('sha256').update(readFileSync(path.join(tree, e.path))).digest('hex'));
    }
  });

  it('leaves out kbuild transient .tmp_* files and directories in the root only', async () => {
    const { tree } = await prepared();
    writeFileSync(path.join(tree, '.tmp_123'), 'x');
    mkdirSync(path.join(tree, '.tmp_456'));
    writeFileSync(path.join(tree, '.tmp_456/probe.o'), 'x');
    writeFileSync(path.join(tree, 'fs/.tmp_789'), 'x');
    const m = await recordTree(tree);
    expect(m.entries.map((e) => e.path).filter((p) => p.includes('.tmp_'))).toEqual(['fs/.tmp_789']);
  });

  it('round-trips through its text, quoting paths with control characters or beyond ASCII (the text is ASCII)', async () => {
    const { m } = await prepared();
    const odd: TreeManifest = {
      ...m,
      entries: [...m.entries, { path: 'z/caf\u00e9 \u{1f600}', kind: 'symlink', target: 'x' }, { path: 'z/tab\there', kind: 'symlink', target: '"quoted\nnewline' }],
    };
    const text = serializeTreeManifest(odd);
    expect(text.split('\n')).toHaveLength(odd.entries.length + 3);
    expect(/^[\t\n\x20-\x7e]*$/.test(text)).toBe(true);
    expect(parseTreeManifest(text, 'f')).toEqual(odd);
  });

  it('records and verifies a path beyond ASCII', async () => {
    const { ws, tree } = await prepared();
    writeFileSync(path.join(tree, 'fs/caf\u00e9.c'), 'x');
    await writeTreeManifest(ws.treeManifest as string, await recordTree(tree));
    expect(await verifyTree(ws)).toMatchObject({ ok: true, files: 7 });
  });

  it.each([
    ['not a manifest', (t: string) => t.replace('rebootless tree-manifest 1', 'something else'), 'not a tree manifest'],
    ['cut short', (t: string) => t.slice(0, -10), 'truncated'],
    ['a line lost', (t: string) => t.split('\n').filter((_, i) => i !== 3).join('\n'), 'entry counts'],
    ['a bad hash', (t: string) => t.replace(/\t[0-9a-f]{64}\t/, '\tnothex\t'), 'malformed file entry'],
    ['lines out of order', (t: string) => { const l = t.split('\n'); [l[2], l[3]] = [l[3] as string, l[2] as string]; return l.join('\n'); }, 'out of order'],
    ['an unknown entry', (t: string) => t.replace(/\nl\t/, '\nd\t'), 'not a file or symlink entry'],
  ])('refuses a manifest %s (MANIFEST_INVALID)', async (_what, spoil, detail) => {
    const { m } = await prepared();
    const err = (() => {
      try {
        parseTreeManifest(spoil(serializeTreeManifest(m)), '/ws/tree-manifest');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(RebootlessError);
    expect(err).toMatchObject({ code: 'MANIFEST_INVALID', data: { path: '/ws/tree-manifest' } });
    expect((err as Error).message).toContain(detail);
  });
});

describe('tree manifest: verify', () => {
  it('a tree as recorded is ok; the quick pass reads no file whose stat is as recorded, --full reads all', async () => {
    const { ws, tree } = await prepared();
    const quick = await verifyTree(ws);
    expect(quick).toMatchObject({ ok: true, full: false, files: 6, symlinks: 1, hashed: 0, tree, name: path.basename(path.dirname(ws.treeManifest as string)) });
    expect(differences(quick)).toEqual(NONE);
    const full = await verifyTree(ws, { full: true });
    expect(full).toMatchObject({ ok: true, full: true, hashed: 6 });
    expect(renderTreeVerify(quick)).toMatch(/ is as recorded \(.*\): 6 files, 1 symlinks \(quick/);
  });

  it('finds a byte changed without changing the size (the new mtime makes the quick pass read it)', async () => {
    const { ws, tree } = await prepared();
    sameSizeWrite(path.join(tree, 'fs/proc/cmdline.c'), false);
    const r = await verifyTree(ws);
    expect(r.ok).toBe(false);
    expect(differences(r)).toEqual({ ...NONE, changed: ['fs/proc/cmdline.c'] });
    expect(r.hashed).toBe(1);
  });

  it('with the old mtime put back, only --full finds it', async () => {
    const { ws, tree } = await prepared();
    sameSizeWrite(path.join(tree, 'fs/proc/cmdline.c'), true);
    expect((await verifyTree(ws)).ok).toBe(true);
    expect(differences(await verifyTree(ws, { full: true }))).toEqual({ ...NONE, changed: ['fs/proc/cmdline.c'] });
  });

  it('finds a file added, one removed, a mode changed and a symlink retargeted, in quick and full passes alike', async () => {
    const { ws, tree } = await prepared();
    writeFileSync(path.join(tree, 'fs/proc/.cmdline.o.cmd'), 'cmd_fs/proc/cmdline.o := gcc\n');
    unlinkSync(path.join(tree, 'fs/proc/version.c'));
    chmodSync(path.join(tree, 'Makefile'), 0o600);
    unlinkSync(path.join(tree, 'fs/proc/autoconf.h'));
    symlinkSync('../../include/generated/other.h', path.join(tree, 'fs/proc/autoconf.h'));
    for (const full of [false, true]) {
      const r = await verifyTree(ws, { full });
      expect(r.ok).toBe(false);
      expect(differences(r)).toEqual({
        changed: ['fs/proc/autoconf.h'],
        added: ['fs/proc/.cmdline.o.cmd'],
        removed: ['fs/proc/version.c'],
        modeChanged: [{ path: 'Makefile', recorded: '0644', found: '0600' }],
      });
    }
  });

  it('finds a file that became a symlink', async () => {
    const { ws, tree } = await prepared();
    rmSync(path.join(tree, 'Makefile'));
    symlinkSync('.config', path.join(tree, 'Makefile'));
    expect(differences(await verifyTree(ws))).toEqual({ ...NONE, changed: ['Makefile'] });
  });

  it('ignores kbuild .tmp_* in the root, directory mtimes and empty directories', async () => {
    const { ws, tree } = await prepared();
    writeFileSync(path.join(tree, '.tmp_123'), 'probe');
    mkdirSync(path.join(tree, '.tmp_4567'));
    writeFileSync(path.join(tree, '.tmp_4567/probe.o'), 'x');
    mkdirSync(path.join(tree, 'fs/new-empty-dir'));
    utimesSync(path.join(tree, 'fs/proc'), new Date(), new Date());
    utimesSync(tree, new Date(0), new Date(0));
    expect(await verifyTree(ws)).toMatchObject({ ok: true, hashed: 0 });
    // only in the root: elsewhere it is a file like any other
    writeFileSync(path.join(tree, 'fs/.tmp_123'), 'probe');
    expect(differences(await verifyTree(ws))).toEqual({ ...NONE, added: ['fs/.tmp_123'] });
  });

  it('caps each list but counts all, and says so', async () => {
    const { ws, tree } = await prepared();
    for (const n of ['a', 'b', 'c']) writeFileSync(path.join(tree, `fs/${n}.o`), n);
    const r = await verifyTree(ws, { limit: 2 });
    expect(r.added).toEqual({ count: 3, first: ['fs/a.o', 'fs/b.o'] });
    const e = treeModifiedError(r);
    expect(e.code).toBe('TREE_MODIFIED');
    expect(e.message).toContain('0 changed, 3 added, 0 removed, 0 with another mode');
    expect(e.message).toContain('  added    fs/a.o\n');
    expect(e.message).toContain('… and 1 more added');
    expect(e.hint).toContain(`rm -r ${path.dirname(ws.treeManifest as string)} && rebootless kernel fetch`);
    expect(renderTreeVerify(r)).toMatch(/ is NOT as recorded: 0 changed, 3 added, 0 removed, 0 with another mode \(.*\): 9 files, 1 symlinks/);
  });

  it('a registered build directory is re-registered, not fetched, in the hint', async () => {
    const { ws, tree } = await prepared();
    writeFileSync(path.join(tree, 'vmlinux.o'), 'x');
    const r = await verifyTree({ ...ws, debianVersion: 'custom' });
    expect(r.registered).toBe(true);
    expect(treeModifiedError(r).hint).toContain(`rebootless kernel add ${r.name} --build-dir ${tree}`);
  });

  it('reads each line it needs in full: a malformed one is MANIFEST_INVALID when the file it describes must be checked', async () => {
    const { ws, tree } = await prepared();
    const file = ws.treeManifest as string;
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\t[0-9a-f]{64}\tMakefile\n/, '\tnot-a-hash\tMakefile\n'));
    // a quick pass does not read the hash of a file whose stat vouches for it
    expect((await verifyTree(ws)).ok).toBe(true);
    await expect(verifyTree(ws, { full: true })).rejects.toMatchObject({ code: 'MANIFEST_INVALID', data: { path: file } });
    utimesSync(path.join(tree, 'Makefile'), new Date(), new Date());
    await expect(verifyTree(ws)).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringContaining('malformed file entry') });
  });

  it('a workspace without a content manifest is TREE_MANIFEST_MISSING', async () => {
    const { ws } = await prepared();
    rmSync(ws.treeManifest as string);
    await expect(verifyTree(ws)).rejects.toMatchObject({ code: 'TREE_MANIFEST_MISSING', data: { manifest: ws.treeManifest, registered: false } });
    await expect(verifyTree({ ...ws, treeManifest: undefined })).rejects.toMatchObject({ code: 'TREE_MANIFEST_MISSING' });
  });
});

describe('tree manifest: the pure parts', () => {
  const file = { path: 'a', kind: 'file' as const, mode: 0o644, size: 3, sha256: 'a'.repeat(64), mtimeNs: '1000', ino: '7' };
  const line = lineOf(file);
  const stat = formatStat(file);
  const found = (o: Partial<typeof file> = {}, sha256?: string): FileFacts => ({ kind: 'file', stat: formatStat({ ...file, ...o }), ...(sha256 ? { sha256 } : {}) });

  it('writes the stat as one field group, and reads a line back to its entry', () => {
    expect(line).toBe(`f\t644\t3\t1000\t7\t${'a'.repeat(64)}\ta`);
    expect(entryOfLine(line)).toEqual(file);
    expect(parseStat(stat)).toEqual({ mode: 0o644, size: 3, mtimeNs: '1000', ino: '7' });
  });

  it('checks a path against its line: a stat as recorded vouches; a moved one asks for the content', () => {
    expect(checkPath('a', line, found(), '2000')).toEqual({ changed: false, reread: false });
    // written as recording began: not trusted
    expect(checkPath('a', line, found(), '1000')).toEqual({ changed: false, reread: true });
    expect(checkPath('a', line, found({ mtimeNs: '1001' }), '2000')).toEqual({ changed: false, reread: true });
    expect(checkPath('a', line, found({ ino: '8' }), '2000')).toEqual({ changed: false, reread: true });
    // another size is another content, without reading it
    expect(checkPath('a', line, found({ size: 4 }), '2000')).toEqual({ changed: true, reread: false });
    // hashed: the hash decides
    expect(checkPath('a', line, found({ mtimeNs: '5' }, 'a'.repeat(64)), '2000')).toEqual({ changed: false, reread: false });
    expect(checkPath('a', line, found({}, 'b'.repeat(64)), '2000')).toEqual({ changed: true, reread: false });
    // the mode alone: the rest of the stat still vouches for the content
    expect(checkPath('a', line, found({ mode: 0o4755 }), '2000')).toEqual({ changed: false, reread: false, mode: { path: 'a', recorded: '0644', found: '4755' } });
    expect(checkPath('a', line, { kind: 'symlink', stat: stat, target: 'b' }, '2000')).toEqual({ changed: true, reread: false });
  });

  it('checks a symlink by its target', () => {
    const link = lineOf({ path: 'l', kind: 'symlink', target: '../x' });
    expect(checkPath('l', link, { kind: 'symlink', stat: '777\t4\t1\t2', target: '../x' }, '0')).toEqual({ changed: false, reread: false });
    expect(checkPath('l', link, { kind: 'symlink', stat: '777\t4\t1\t2', target: '../y' }, '0')).toEqual({ changed: true, reread: false });
    expect(checkPath('l', link, found(), '0')).toEqual({ changed: true, reread: false });
  });

  it('vouches for a line from the stat alone, comparing nanosecond times as decimals', () => {
    expect(lineVouches(line, stat, '2000')).toBe(true);
    expect(lineVouches(line, stat, '1000')).toBe(false);
    expect(lineVouches(line, stat, '999')).toBe(false);
    expect(lineVouches(line, stat, '10000')).toBe(true);
    expect(lineVouches(line, formatStat({ ...file, ino: '70' }), '2000')).toBe(false);
    expect(lineVouches(line, formatStat({ ...file, mode: 0o755 }), '2000')).toBe(false);
    expect(lineVouches(lineOf({ path: 'l', kind: 'symlink', target: stat }), stat, '2000')).toBe(false);
    expect([decimalBefore('999', '1000'), decimalBefore('1000', '999'), decimalBefore('1000', '1001'), decimalBefore('1000', '1000')]).toEqual([true, false, true, false]);
  });

  it('trusts a stat only when size, mtime and inode match and the file was not written as recording began', () => {
    const st = { mode: 0o644, size: 3, mtimeNs: '1000', ino: '7' };
    expect(statVouches(st, st, '2000')).toBe(true);
    expect(statVouches(st, { ...st, mtimeNs: '1001' }, '2000')).toBe(false);
    expect(statVouches(st, { ...st, ino: '8' }, '2000')).toBe(false);
    expect(statVouches(st, { ...st, size: 4 }, '2000')).toBe(false);
    expect(statVouches(st, st, '1000')).toBe(false);
  });
});
