import { hostPath, readTextIfAny, type LiveHost } from './host.js';

// /proc/sys/kernel/tainted: a bit mask; the letters are the kernel's own
// (Documentation/admin-guide/tainted-kernels.rst).

export interface TaintFlag {
  bit: number;
  letter: string;
  meaning: string;
}

const FLAGS: readonly [string, string][] = [
  ['P', 'proprietary module loaded'],
  ['F', 'module force loaded'],
  ['S', 'kernel running on an out of specification system'],
  ['R', 'module force unloaded'],
  ['M', 'processor reported a machine check exception'],
  ['B', 'bad page referenced or unexpected page flags'],
  ['U', 'taint requested by user space'],
  ['D', 'kernel died recently (oops or BUG)'],
  ['A', 'ACPI table overridden by user'],
  ['W', 'kernel issued a warning'],
  ['C', 'staging driver loaded'],
  ['I', 'workaround for a platform firmware bug applied'],
  ['O', 'externally built (out of tree) module loaded'],
  ['E', 'unsigned module loaded'],
  ['L', 'soft lockup occurred'],
  ['K', 'kernel has been live patched'],
  ['X', 'auxiliary taint (distribution defined)'],
  ['T', 'kernel built with the struct randomization plugin'],
  ['N', 'an in-kernel test has been run'],
];

export function decodeTaint(mask: number): TaintFlag[] {
  const out: TaintFlag[] = [];
  FLAGS.forEach(([letter, meaning], bit) => {
    if (mask & (1 << bit)) out.push({ bit, letter, meaning });
  });
  return out;
}

export async function readTaint(h: LiveHost): Promise<number> {
  return Number((await readTextIfAny(hostPath(h, 'proc/sys/kernel/tainted')))?.trim()) || 0;
}
