import { describe, expect, it } from 'vitest';
import { ownerOfCommand } from '../../../src/kbuild/owner.js';
import { commandsOfRecord } from '../../../src/kbuild/unit-command.js';

/** The owner read from a `.cmd` file's record. */
const parseOwner = (cmd: string) => {
  const line = cmd.split('\n').find((l) => l.startsWith('cmd_'));
  if (!line) return undefined;
  const record = line.slice(line.indexOf(':=') + 2);
  return ownerOfCommand(commandsOfRecord(record, 'x.o')[0] ?? []);
};
import { renderKbuild, shippedRecord } from '../../../src/kbuild/records.js';

describe('object owner from kbuild records', () => {
  it('reads a built-in object as vmlinux', () => {
    const cmd = `cmd_fs/proc/cmdline.o := gcc-12 -Wp,-MMD,fs/proc/.cmdline.o.d -nostdinc -O2 -DKBUILD_MODFILE='"fs/proc/proc"' -DKBUILD_BASENAME='"cmdline"' -DKBUILD_MODNAME='"proc"' -D__KBUILD_MODNAME=kmod_proc -c -o fs/proc/cmdline.o fs/proc/cmdline.c\n\nsource_fs/proc/cmdline.o := fs/proc/cmdline.c\n`;
    expect(parseOwner(cmd)).toEqual({ kind: 'vmlinux' });
  });

  it('reads a module object with its module name', () => {
    const cmd = `cmd_fs/binfmt_misc.o := gcc-12 -nostdinc -O2 -DMODULE -DKBUILD_BASENAME='"binfmt_misc"' -DKBUILD_MODNAME='"binfmt_misc"' -D__KBUILD_MODNAME=kmod_binfmt_misc -c -o fs/binfmt_misc.o fs/binfmt_misc.c\n`;
    expect(parseOwner(cmd)).toEqual({ kind: 'module', name: 'binfmt_misc' });
    expect(parseOwner("cmd_x.o := gcc -DMODULE -DKBUILD_MODNAME='\"nf-nat\"' -c x.c")).toEqual({ kind: 'module', name: 'nf_nat' });
  });

  it('knows nothing without a recorded command', () => {
    expect(parseOwner('')).toBeUndefined();
  });
});

describe('kbuild records for the livepatch module', () => {
  it('names the module and its parts in link order', () => {
    expect(renderKbuild('livepatch_fix', ['livepatch.o', 'patch0.o', 'patch1.o'])).toBe('obj-m := livepatch_fix.o\nlivepatch_fix-y := livepatch.o patch0.o patch1.o\n');
  });

  it('records a shipped part as copied from its _shipped file', () => {
    const r = shippedRecord('patch0.o');
    expect(r.file).toBe('.patch0.o.cmd');
    expect(r.text.split('\n')[0]).toBe('cmd_patch0.o := cat patch0.o_shipped > patch0.o');
    expect(r.text).toContain('source_patch0.o := patch0.o_shipped\n');
    expect(r.text).toContain('deps_patch0.o := \n');
  });
});
