import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandsOfRecord, dryRunArgs, recordFromDryRun, recordsFromDryRun, replayCommands } from '../../../src/kbuild/unit-command.js';
import { isRebootlessError } from '../../../src/errors/index.js';
import { descentDryRun } from '../../../src/kbuild/kbuild-env.js';

// `make -n fs/proc/version.o` in a prepared 6.1 tree (Debian 6.1.0-57-cloud-amd64), as kbuild prints it.
const DRY = readFileSync(new URL('../../fixtures/kbuild/dry-run-6.1-fs-proc-version.txt', import.meta.url), 'utf8');

describe("kbuild's record of a unit, from a dry run", () => {
  it('asks make to print, not run, with prepare taken as done', () => {
    expect(dryRunArgs(['fs/proc/version.o', 'fs/namei.o'], '-ffunction-sections')).toEqual(['-n', '--no-print-directory', '-o', 'prepare', 'KCFLAGS=-ffunction-sections', 'fs/proc/version.o', 'fs/namei.o']);
  });

  it("reads the record fixdep would write to the object's .cmd file, quotes undone", () => {
    const r = recordFromDryRun(DRY, 'fs/proc/version.o');
    expect(r).toBeDefined();
    expect(r?.startsWith('gcc-12 -Wp,-MMD,fs/proc/.version.o.d -nostdinc ')).toBe(true);
    expect(r).toContain(`-DKBUILD_MODNAME='"proc"'`);
    expect(r?.trimEnd().endsWith('--uaccess   fs/proc/version.o')).toBe(true);
    expect(recordFromDryRun(DRY, 'fs/proc/cmdline.o')).toBeUndefined();
    // the same records read in one pass, for many objects
    const all = recordsFromDryRun(DRY);
    expect(all.get('fs/proc/version.o')).toBe(r);
    expect(all.has('fs/proc/cmdline.o')).toBe(false);
  });

  it('splits the record into the compile and objtool, each an argv', () => {
    const record = recordFromDryRun(DRY, 'fs/proc/version.o') as string;
    const [cc, objtool, ...rest] = commandsOfRecord(record, 'fs/proc/version.o');
    expect(rest).toEqual([]);
    expect(cc?.[0]).toBe('gcc-12');
    expect(cc).toContain('-DKBUILD_MODNAME="proc"');
    expect(cc?.slice(-4)).toEqual(['-c', '-o', 'fs/proc/version.o', 'fs/proc/version.c']);
    expect(objtool?.[0]).toBe('./tools/objtool/objtool');
    expect(objtool?.at(-1)).toBe('fs/proc/version.o');
  });

  it('refuses what it cannot replay without a shell: pipes, redirections, expansions', () => {
    for (const record of ['gcc -c -o a.o a.c | tee x', 'gcc -c -o a.o a.c > log', 'gcc $(FLAGS) -c -o a.o a.c', 'gcc "$X" -c -o a.o a.c']) {
      let code = '';
      try {
        commandsOfRecord(record, 'a.o');
      } catch (e) {
        code = isRebootlessError(e) ? e.code : 'other';
      }
      expect(code, record).toBe('KBUILD_RECORD_UNSUPPORTED');
    }
  });
});

describe('replaying a record outside the tree', () => {
  const record = `gcc-12 -Wp,-MMD,fs/proc/.version.o.d -nostdinc -I./include -DKBUILD_MODNAME='"proc"' -c -o fs/proc/version.o fs/proc/version.c ; ./tools/objtool/objtool --orc fs/proc/version.o`;
  const paths = { source: 'fs/proc/version.c', object: 'fs/proc/version.o', overlayRoot: '/w/src', output: '/w/obj/fs/proc/version.o', depDir: '/w/obj/fs/proc' };

  it('reads the source copy, writes the object and dependencies outside the tree, keeps every other flag', () => {
    const [cc, objtool] = replayCommands(commandsOfRecord(record, paths.object), paths, record);
    expect(cc).toEqual([
      'gcc-12', '-Wp,-MMD,/w/obj/fs/proc/.version.o.d', '-nostdinc', '-I./include', '-DKBUILD_MODNAME="proc"', '-c', '-o', '/w/obj/fs/proc/version.o',
      '-iquote', 'fs/proc', '-ffile-prefix-map=/w/src/=', '/w/src/fs/proc/version.c',
    ]);
    expect(objtool).toEqual(['./tools/objtool/objtool', '--orc', '/w/obj/fs/proc/version.o']);
  });

  it('refuses a record whose first step is not the compile, or a later step that does not work on the object', () => {
    const bad = (r: string): string => {
      try {
        replayCommands(commandsOfRecord(r, paths.object), paths, r);
        return 'accepted';
      } catch (e) {
        return isRebootlessError(e) ? e.code : 'other';
      }
    };
    expect(bad('gcc -o fs/proc/version.o fs/proc/version.c')).toBe('KBUILD_RECORD_UNSUPPORTED');
    expect(bad('gcc -c -o fs/proc/version.o fs/proc/version.c ; touch include/generated/x.h')).toBe('KBUILD_RECORD_UNSUPPORTED');
    expect(bad('gcc -c -o fs/proc/version.o fs/proc/version.c ; ./scripts/x fs/proc/version.o')).toBe('accepted');
  });
});

describe("the descent's dry run", () => {
  it('starts Makefile.build at the top as the top Makefile does, with make -n and only the captured environment', () => {
    const r = descentDryRun({ MAKEFLAGS: 'rR --no-print-directory -- CC=gcc-12', KBUILD_CFLAGS: '-O2', PATH: '/usr/bin' }, ['fs/proc/version.o', 'fs/namei.o']);
    expect(r.args).toEqual(['-f', './scripts/Makefile.build', 'obj=.', 'need-builtin=1', 'need-modorder=1', './fs/proc/version.o', './fs/namei.o']);
    expect(r.env).toMatchObject({ MAKEFLAGS: 'nrR --no-print-directory -- CC=gcc-12', KBUILD_CFLAGS: '-O2', PATH: '/usr/bin' });
    // nothing of this process's own environment gets through
    const own = Object.keys(process.env).find((k) => !['MAKEFLAGS', 'KBUILD_CFLAGS', 'PATH'].includes(k));
    if (own) expect(r.env[own]).toBeUndefined();
    expect(descentDryRun({ MAKEFLAGS: ' -- CC=gcc-12' }, ['a.o']).env.MAKEFLAGS).toBe('n  -- CC=gcc-12');
  });
});
