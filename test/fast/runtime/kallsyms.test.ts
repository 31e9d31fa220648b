import { describe, expect, it } from 'vitest';
import { checkAgainstKallsyms, parseKallsyms } from '../../../src/runtime/kallsyms.js';

// apply's part of verify: names and positions against /proc/kallsyms
// (addresses hidden as for non-root: only the order counts).

const KALLSYMS = [
  '0000000000000000 T cmdline_proc_show',
  '0000000000000000 t show',
  '0000000000000000 d buf.1',
  '0000000000000000 t show',
  '0000000000000000 d buf.2',
  '0000000000000000 t load_misc_binary\t[binfmt_misc]',
  '0000000000000000 d entries\t[binfmt_misc]',
].join('\n');

describe('kallsyms check', () => {
  const k = parseKallsyms(KALLSYMS);
  const sym = (object: string, name: string, sympos: number) => ({ object, name, sympos });

  it('accepts unique names at sympos 0 and repeated names at their position, per object', () => {
    const r = checkAgainstKallsyms(k, { symbols: [sym('vmlinux', 'buf.2', 0), sym('vmlinux', 'show', 2), sym('binfmt_misc', 'entries', 0)], functions: [sym('vmlinux', 'cmdline_proc_show', 0)] });
    expect(r).toEqual({ violations: [], notes: [] });
  });

  it('refuses a missing name, sympos 0 for a repeated name, a position past the last', () => {
    const r = checkAgainstKallsyms(k, { symbols: [sym('vmlinux', 'gone', 0), sym('vmlinux', 'show', 0), sym('vmlinux', 'show', 3)], functions: [sym('vmlinux', 'load_misc_binary', 0)] });
    expect(r.violations.map((v) => [v.code, v.symbol])).toEqual([
      ['KLP_SYM_MISSING', '.klp.sym.vmlinux.gone,0'],
      ['KLP_SYM_MISSING', '.klp.sym.vmlinux.show,0'],
      ['KLP_SYM_MISSING', '.klp.sym.vmlinux.show,3'],
      ['FUNCTION_MISSING', 'load_misc_binary,0'],
    ]);
  });

  it('leaves objects that are not loaded to the kernel, with a note', () => {
    const r = checkAgainstKallsyms(k, { symbols: [sym('ext4', 'ext4_file_write_iter', 0)], functions: [] });
    expect(r.violations).toEqual([]);
    expect(r.notes).toEqual([expect.stringContaining('module ext4 is not loaded')]);
  });
});
