import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RebootlessError } from '../../../src/errors/index.js';
import { renameRecord, wireNewFiles } from '../../../src/pipeline/new-files.js';
import type { PatchedSource } from '../../../src/pipeline/types.js';
import { tempDir } from '../../helpers/tmp.js';

const tree = tempDir('rb-newfiles-');
writeFileSync(path.join(tree, '.config'), 'CONFIG_PROC_FS=y\nCONFIG_FAT_FS=m\n# CONFIG_OFF is not set\n');

const makefile = [
  'obj-y += a.o \\',
  '\tb.o # the first two',
  'obj-$(CONFIG_FAT_FS) += fat.o',
  'fat-y := cache.o dir.o',
  'obj-$(CONFIG_OFF) += off.o',
  'ccflags-y += -DX',
  '',
].join('\n');

const wire = async (patched: string, created = ['d/n.c']): Promise<unknown> => {
  const files: PatchedSource[] = [{ path: 'd/Makefile', orig: makefile, patched }, ...created.map((p) => ({ path: p, orig: '', patched: 'int n;\n', created: true }))];
  try {
    return await wireNewFiles(files, tree, 'fix.patch');
  } catch (e) {
    return (e as RebootlessError).code;
  }
};

describe('new files wired by the diff', () => {
  it('finds the list each new object joins, with the release options put in, and its siblings on that list', async () => {
    expect(await wire(makefile.replace('b.o #', 'b.o n.o #'))).toEqual([{ source: 'd/n.c', list: 'obj-y', makefile: 'd/Makefile', siblings: ['d/a.o', 'd/b.o'] }]);
    expect(await wire(makefile.replace('fat-y := cache.o dir.o', 'fat-y := cache.o dir.o\nfat-$(CONFIG_PROC_FS) += n.o'))).toEqual([
      { source: 'd/n.c', list: 'fat-y', makefile: 'd/Makefile', siblings: ['d/cache.o', 'd/dir.o'] },
    ]);
    // fat-objs is the same list as fat-y
    expect(await wire(`${makefile}fat-objs += sub/n.o\n`, ['d/sub/n.c'])).toEqual([{ source: 'd/sub/n.c', list: 'fat-y', makefile: 'd/Makefile', siblings: ['d/cache.o', 'd/dir.o'] }]);
  });

  it('refuses other Makefile changes, lists that make no object of vmlinux or an existing module, and new files no Makefile builds', async () => {
    expect(await wire(makefile.replace('-DX', '-DY').replace('b.o #', 'b.o n.o #'))).toBe('PATCH_MAKEFILE_CHANGE');
    expect(await wire(makefile.replace('dir.o', 'dir.o other.o'))).toBe('PATCH_MAKEFILE_CHANGE');
    expect(await wire(`${makefile}obj-$(CONFIG_FAT_FS) += n.o\n`)).toBe('PATCH_NEW_FILE_LIST'); // a new module
    expect(await wire(`${makefile}obj-$(CONFIG_OFF) += n.o\n`)).toBe('PATCH_NEW_FILE_LIST'); // not built
    expect(await wire(`${makefile}lib-y += n.o\n`)).toBe('PATCH_NEW_FILE_LIST');
    expect(await wire(`${makefile}obj-$(OTHER_VAR) += n.o\n`)).toBe('PATCH_NEW_FILE_LIST');
    expect(await wire(makefile)).toBe('PATCH_NEW_FILE_UNWIRED');
  });

  it("turns a sibling's kbuild record into the new object's: paths, dependency file and the names kbuild passes", () => {
    const sib =
      "gcc -Wp,-MMD,fs/proc/.cmdline.o.d -DKBUILD_MODFILE='\"fs/proc/proc\"' -DKBUILD_BASENAME='\"cmdline\"' -DKBUILD_MODNAME='\"proc\"' -D__KBUILD_MODNAME=kmod_proc -c -o fs/proc/cmdline.o fs/proc/cmdline.c ; ./tools/objtool/objtool --orc fs/proc/cmdline.o";
    expect(renameRecord(sib, 'fs/proc/cmdline.o', 'fs/proc/note.o', 'proc-y')).toBe(
      "gcc -Wp,-MMD,fs/proc/.note.o.d -DKBUILD_MODFILE='\"fs/proc/proc\"' -DKBUILD_BASENAME='\"note\"' -DKBUILD_MODNAME='\"proc\"' -D__KBUILD_MODNAME=kmod_proc -c -o fs/proc/note.o fs/proc/note.c ; ./tools/objtool/objtool --orc fs/proc/note.o",
    );
    const own = "gcc -Wp,-MMD,kernel/.exit.o.d -DKBUILD_MODFILE='\"kernel/exit\"' -DKBUILD_BASENAME='\"exit\"' -DKBUILD_MODNAME='\"exit\"' -D__KBUILD_MODNAME=kmod_exit -c -o kernel/exit.o kernel/exit.c";
    expect(renameRecord(own, 'kernel/exit.o', 'kernel/exit-note.o', 'obj-y')).toBe(
      "gcc -Wp,-MMD,kernel/.exit-note.o.d -DKBUILD_MODFILE='\"kernel/exit-note\"' -DKBUILD_BASENAME='\"exit_note\"' -DKBUILD_MODNAME='\"exit_note\"' -D__KBUILD_MODNAME=kmod_exit_note -c -o kernel/exit-note.o kernel/exit-note.c",
    );
  });
});
