import { describe, expect, it } from 'vitest';
import { codeOf } from '../../helpers/errors.js';
import { applyFilePatch, checkSupported, parseSourcePatch, unsupportedKind } from '../../../src/pipeline/source-patch.js';
import { RebootlessError } from '../../../src/errors/index.js';

const source = ['#include <x.h>', '', 'static int show(void)', '{', '\treturn 1;', '}', '', 'int other(void)', '{', '\treturn 2;', '}', ''].join('\n');

const gitDiff = `diff --git a/fs/proc/x.c b/fs/proc/x.c
index 1111111..2222222 100644
--- a/fs/proc/x.c
+++ b/fs/proc/x.c
@@ -3,4 +3,5 @@
 static int show(void)
 {
-\treturn 1;
+\tpr_info("hi");
+\treturn 3;
 }
@@ -9,3 +10,3 @@ int other(void)
 {
-\treturn 2;
+\treturn 4;
 }
`;


describe('source patches', () => {
  it('parses a git diff into files and hunks with -p1 paths', () => {
    const [fp] = parseSourcePatch(gitDiff, 'fix.patch');
    expect(fp?.path).toBe('fs/proc/x.c');
    expect(fp?.kind).toBe('modify');
    expect(fp?.hunks.map((h) => [h.oldStart, h.oldCount, h.newStart, h.newCount])).toEqual([
      [3, 4, 3, 5],
      [9, 3, 10, 3],
    ]);
  });

  it('applies hunks, also when the file moved a few lines', () => {
    const [fp] = parseSourcePatch(gitDiff);
    const out = applyFilePatch(source, fp as never);
    expect(out).toContain('\tpr_info("hi");\n\treturn 3;\n}');
    expect(out).toContain('\treturn 4;');
    expect(out.endsWith('\n')).toBe(true);
    const shifted = applyFilePatch('// one more line\n// and another\n' + source, fp as never);
    expect(shifted.split('\n').slice(0, 2)).toEqual(['// one more line', '// and another']);
    expect(shifted).toContain('\treturn 4;');
  });

  it('says which hunk does not apply and why', () => {
    const [fp] = parseSourcePatch(gitDiff, 'fix.patch');
    try {
      applyFilePatch(source.replace('\treturn 2;', '\treturn 22;'), fp as never, 'fix.patch');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RebootlessError);
      expect((e as RebootlessError).code).toBe('PATCH_DOES_NOT_APPLY');
      expect((e as RebootlessError).message).toContain('fix.patch: fs/proc/x.c: hunk 2 (at line 9) does not apply');
      expect((e as RebootlessError).message).toContain('found "\\treturn 22;"');
    }
  });

  it('handles pure insertions and plain diff -u headers with timestamps', () => {
    const d = '--- linux.orig/fs/proc/x.c\t2026-01-01 00:00:00\n+++ linux/fs/proc/x.c\t2026-01-01 00:00:01\n@@ -1,0 +2,1 @@\n+// added\n';
    const [fp] = parseSourcePatch(d);
    expect(fp?.path).toBe('fs/proc/x.c');
    expect(applyFilePatch(source, fp as never).split('\n').slice(0, 3)).toEqual(['#include <x.h>', '// added', '']);
  });

  it("reads diff -N's epoch timestamps as a created and a deleted file, in any time zone", () => {
    const created = '--- a/fs/proc/n.c\t1970-01-01 00:00:00.000000000 +0000\n+++ b/fs/proc/n.c\t2026-12-03 10:05:16.662337298 +0000\n@@ -0,0 +1 @@\n+int n;\n';
    expect(parseSourcePatch(created)[0]?.kind).toBe('create');
    const deleted = '--- a/fs/proc/n.c\t2026-12-03 10:05:16 +0100\n+++ b/fs/proc/n.c\t1969-12-31 19:00:00 -0500\n@@ -1 +0,0 @@\n-int n;\n';
    expect(parseSourcePatch(deleted)[0]?.kind).toBe('delete');
    // an empty file that gets a line, with a real time: a change of an existing file
    expect(parseSourcePatch(created.replace('1970-01-01 00:00:00.000000000', '2026-01-01 00:00:00'))[0]?.kind).toBe('modify');
  });

  it('takes headers (changed or new), new .c files and Makefile changes (checked by new-files), refuses assembly, Kconfig, other new files and deleted files, naming them', () => {
    const one = (p: string, kind = 'modify'): string | undefined =>
      unsupportedKind({ path: p, kind: kind as 'modify', hunks: [] });
    expect(one('fs/proc/x.c')).toBeUndefined();
    expect(one('include/linux/x.h')).toBeUndefined();
    expect(one('include/linux/new.h', 'create')).toBeUndefined();
    expect(one('include/linux/x.h', 'delete')).toBe('deleted files');
    expect(one('arch/x86/entry/entry_64.S')).toBe('assembly files');
    expect(one('fs/Kconfig')).toBe('Kconfig files');
    expect(one('fs/proc/Makefile')).toBeUndefined();
    expect(one('fs/proc/Makefile', 'create')).toBe('new files other than C sources and headers');
    expect(one('fs/proc/Makefile.inc')).toBe('files other than C sources');
    expect(one('fs/proc/new.c', 'create')).toBeUndefined();
    expect(one('fs/proc/new.S', 'create')).toBe('new files other than C sources and headers');
    const patches = parseSourcePatch(gitDiff.replace(/fs\/proc\/x\.c/g, 'fs/proc/x.S'), 'fix.patch');
    try {
      checkSupported(patches, 'fix.patch');
      expect.unreachable();
    } catch (e) {
      expect((e as RebootlessError).message).toBe('fix.patch: fs/proc/x.S: changes to assembly files are not supported yet');
    }
  });

  it('refuses paths outside the tree, empty and malformed diffs', () => {
    expect(codeOf(() => parseSourcePatch('--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-x\n+y\n'))).toBe('PATCH_PATH_OUTSIDE');
    expect(codeOf(() => parseSourcePatch('--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-x\n+y\n'))).toBe('PATCH_PATH_OUTSIDE');
    expect(codeOf(() => parseSourcePatch('just words\n'))).toBe('PATCH_EMPTY');
    expect(codeOf(() => parseSourcePatch('--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n a\n-b\n'))).toBe('PATCH_MALFORMED');
    expect(codeOf(() => parseSourcePatch('--- a/x.c\n+++ b/x.c\n@@ nonsense @@\n'))).toBe('PATCH_MALFORMED');
  });

  it('refuses a hunk longer than its header instead of dropping the rest (and the hunks after it)', () => {
    const long = gitDiff.replace('@@ -3,4 +3,5 @@', '@@ -3,2 +3,2 @@');
    expect(codeOf(() => parseSourcePatch(long))).toBe('PATCH_MALFORMED');
    // a mail signature after the last hunk is not part of it
    expect(parseSourcePatch(`${gitDiff}-- \n2.39.2\n`)[0]?.hunks).toHaveLength(2);
  });
});
