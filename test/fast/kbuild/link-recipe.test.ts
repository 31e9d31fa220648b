import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandOfCmdFile, compiledRecord, learnLinkRecipe, linkInputs, recipeCommands } from '../../../src/kbuild/link-recipe.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-recipe-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAME = 'livepatch_one';
/** The records kbuild 6.1 leaves after `make M=<dir> modules` (commands shortened). */
function writeRecords(d: string): void {
  const rec = (target: string, cmd: string) => writeFileSync(path.join(d, `.${target}.cmd`), `cmd_${d}/${target} := ${cmd}\n\nsource_x := y\n`);
  rec('livepatch.o', `gcc-12 -Wp,-MMD,${d}/.livepatch.o.d -DKBUILD_MODFILE='"${d}/${NAME}"' -DKBUILD_MODNAME='"${NAME}"' -c -o ${d}/livepatch.o ${d}/livepatch.c`);
  rec(`${NAME}.o`, `ld -m elf_x86_64 -r -o ${d}/${NAME}.o @${d}/${NAME}.mod`);
  rec('Module.symvers', ` sed 's/ko$$/o/'  ${d}/modules.order | scripts/mod/modpost -m -o ${d}/Module.symvers -e -i Module.symvers -w -T - `);
  rec(`${NAME}.mod.o`, `gcc-12 -DKBUILD_MODNAME='"${NAME}"' -c -o ${d}/${NAME}.mod.o ${d}/${NAME}.mod.c`);
  rec(`${NAME}.ko`, `ld -r -m elf_x86_64 -T scripts/module.lds -o ${d}/${NAME}.ko ${d}/${NAME}.o ${d}/${NAME}.mod.o;  true`);
  writeFileSync(path.join(d, 'modules.order'), `${d}/${NAME}.ko\n`);
}

/** What kbuild 6.12 leaves instead: records named savedcmd_, modules.order naming the .o, and a .module-common.o linked into the .ko. */
function writeRecords612(d: string): void {
  const rec = (target: string, cmd: string) => writeFileSync(path.join(d, `.${target}.cmd`), `savedcmd_${d}/${target} := ${cmd}\n\nsource_x := y\n`);
  rec('livepatch.o', `gcc-12 -DKBUILD_MODNAME='"${NAME}"' -c -o ${d}/livepatch.o ${d}/livepatch.c`);
  rec(`${NAME}.o`, `ld -m elf_x86_64 -r -o ${d}/${NAME}.o @${d}/${NAME}.mod`);
  rec('Module.symvers', `scripts/mod/modpost -M -m -w -o ${d}/Module.symvers -T ${d}/modules.order -i Module.symvers -e`);
  rec(`${NAME}.mod.o`, `gcc-12 -DKBUILD_MODNAME='"${NAME}"' -c -o ${d}/${NAME}.mod.o ${d}/${NAME}.mod.c`);
  rec('.module-common.o', `gcc-12 -c -o ${d}/.module-common.o scripts/module-common.c`);
  rec(`${NAME}.ko`, `ld -r -m elf_x86_64 -T scripts/module.lds -o ${d}/${NAME}.ko ${d}/${NAME}.o ${d}/${NAME}.mod.o ${d}/.module-common.o`);
  writeFileSync(path.join(d, 'modules.order'), `${d}/${NAME}.o\n`);
}

describe("the link recipe learnt from kbuild's records", () => {
  it("reads a record's command with make's escapes undone", () => {
    expect(commandOfCmdFile("cmd_/m/x.o := awk '!x[$$0]++' a $(pound)b\n\nsource_x := y\n", '/m/x.o')).toBe("awk '!x[$0]++' a #b");
    expect(commandOfCmdFile('cmd_/m/y.o := ld\n', '/m/x.o')).toBeUndefined();
  });

  it('replaces the directory and the module name, and puts another build in their place', async () => {
    writeRecords(dir);
    const r = await learnLinkRecipe(dir, NAME, 'CONFIG_MODULES=y\n');
    expect(r?.steps).toHaveLength(5);
    expect(r?.steps.join('\n')).not.toContain(dir);
    expect(r?.steps.join('\n')).not.toContain(NAME);
    const cmds = recipeCommands(r as NonNullable<typeof r>, '/w/module', 'livepatch_two');
    expect(cmds[0]).toBe(`gcc-12 -Wp,-MMD,/w/module/.livepatch.o.d -DKBUILD_MODFILE='"/w/module/livepatch_two"' -DKBUILD_MODNAME='"livepatch_two"' -c -o /w/module/livepatch.o /w/module/livepatch.c`);
    expect(cmds[2]).toContain("sed 's/ko$/o/'  /w/module/modules.order | scripts/mod/modpost");
    expect(cmds[4]).toContain('-o /w/module/livepatch_two.ko /w/module/livepatch_two.o /w/module/livepatch_two.mod.o');
    // modpost reads livepatch.o's record: written as kbuild writes it, make-escaped
    expect(compiledRecord({ steps: ['cc -o $X #y'], order: '' }, '/w/module', 'livepatch_two')).toEqual({ file: '.livepatch.o.cmd', text: 'cmd_/w/module/livepatch.o := cc -o $$X $(pound)y\n' });
    expect(linkInputs(r as NonNullable<typeof r>, '/w/module', 'livepatch_two', ['livepatch.o', 'patch0.o'])).toEqual({ 'livepatch_two.mod': '/w/module/livepatch.o\n/w/module/patch0.o\n', 'modules.order': '/w/module/livepatch_two.ko\n' });
  });

  it("learns 6.12's records: savedcmd_, the .module-common.o step before the .ko, modules.order naming the .o", async () => {
    const d = mkdtempSync(path.join(dir, 'k612-'));
    writeRecords612(d);
    const r = await learnLinkRecipe(d, NAME, '');
    if (!r) throw new Error('no recipe learnt');
    const cmds = recipeCommands(r, '/w/module', 'livepatch_two');
    expect(cmds).toHaveLength(6);
    expect(cmds[4]).toBe('gcc-12 -c -o /w/module/.module-common.o scripts/module-common.c');
    expect(cmds[5]).toContain('/w/module/livepatch_two.mod.o /w/module/.module-common.o');
    expect(linkInputs(r, '/w/module', 'livepatch_two', ['livepatch.o'])['modules.order']).toBe('/w/module/livepatch_two.o\n');
    // without modules.order there is nothing to tell modpost what to read
    rmSync(path.join(d, 'modules.order'));
    expect(await learnLinkRecipe(d, NAME, '')).toBeUndefined();
  });

  it('learns nothing when a record is missing, or when modpost would hash the sources the records list (SRCVERSION_ALL)', async () => {
    writeRecords(dir);
    expect(await learnLinkRecipe(dir, NAME, 'CONFIG_MODULE_SRCVERSION_ALL=y\n')).toBeUndefined();
    rmSync(path.join(dir, `.${NAME}.mod.o.cmd`));
    expect(await learnLinkRecipe(dir, NAME, '')).toBeUndefined();
  });
});
