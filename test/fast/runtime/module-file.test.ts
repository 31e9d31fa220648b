import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseElf } from '../../../src/elf/parse.js';
import { readKlpTables } from '../../../src/elf/klp-tables.js';
import { patchedFunctionNames, readModuleFile } from '../../../src/runtime/module-file.js';
import { rejection } from '../../helpers/errors.js';
import { RELEASE, kpatchModule, livepatchModule, plainModule, signedCopy } from '../../helpers/livepatch-fixtures.js';

const OBJECTS = [
  {
    name: 'vmlinux',
    functions: [
      { name: 'pipe_read', sympos: 0 },
      { name: 'cmdline_proc_show', sympos: 2 },
      { name: 'meminfo_proc_show', sympos: 0 },
    ],
  },
  { name: 'ext4', functions: [{ name: 'ext4_file_write_iter', sympos: 0 }] },
];

describe('readKlpTables', () => {
  it('finds both objects (NULL name = vmlinux), their functions with sympos, and replace', () => {
    const elf = parseElf(readFileSync(livepatchModule()));
    const tables = readKlpTables(elf);
    expect({ objects: tables.objects, replace: tables.replace }).toEqual({ objects: OBJECTS, replace: true });
    // each klp_func's new_func: the __rebootless_new_ function in the module
    const code = tables.objects.flatMap((o) => o.functions).map((f) => tables.newCode.get(f)?.symbol.name);
    expect(code).toEqual(OBJECTS.flatMap((o) => o.functions).map((f) => `__rebootless_new_${f.name}`));
  });

  it('reads replace = false', () => {
    expect(readKlpTables(parseElf(readFileSync(livepatchModule({ replace: false })))).replace).toBe(false);
  });

  it('finds nothing in an object without klp tables', () => {
    const tables = readKlpTables(parseElf(readFileSync(plainModule())));
    expect({ objects: tables.objects, replace: tables.replace }).toEqual({ objects: [], replace: undefined });
  });
});

describe('readModuleFile', () => {
  it('reads the functions of a kpatch-built module from .kpatch.funcs', async () => {
    const m = await readModuleFile(kpatchModule());
    expect([m.name, m.replace, m.objects]).toEqual([
      'kpatch_fix',
      null,
      [
        { name: 'vmlinux', functions: [{ name: 'pipe_read', sympos: 0 }] },
        { name: 'ext4', functions: [{ name: 'ext4_sync_fs', sympos: 2 }] },
      ],
    ]);
  });

  it('describes a livepatch module from its .modinfo and tables', async () => {
    const file = livepatchModule({ name: 'livepatch-pipe' });
    const m = await readModuleFile(file);
    expect(m).toEqual({
      file,
      name: 'livepatch_pipe',
      release: RELEASE,
      vermagic: `${RELEASE} SMP preempt mod_unload modversions `,
      description: 'pipe_read and friends, fixed',
      cves: ['CVE-2026-0001', 'CVE-2026-0002'],
      signed: false,
      signer: null,
      replace: true,
      objects: OBJECTS,
      builtByRebootless: false,
    });
    expect(patchedFunctionNames(m)).toEqual(['pipe_read', 'cmdline_proc_show', 'meminfo_proc_show', 'ext4_file_write_iter']);
  });

  it('sees an appended signature and a stacking (non-replace) patch', async () => {
    const m = await readModuleFile(signedCopy(livepatchModule({ replace: false })));
    expect([m.signed, m.replace, m.name]).toEqual([true, false, 'livepatch_a']);
  });

  it('refuses a module that is not a livepatch, and a missing file', async () => {
    expect((await rejection(readModuleFile(plainModule()))).code).toBe('NOT_A_LIVEPATCH');
    const missing = await rejection(readModuleFile('/nonexistent/x.ko'));
    expect([missing.code, missing.data]).toEqual(['MODULE_FILE_MISSING', { path: '/nonexistent/x.ko', reason: 'ENOENT' }]);
  });
});
