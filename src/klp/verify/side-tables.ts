import type { ElfFile } from '../../elf/model.js';
import { livepatchRelaObject } from '../../elf/livepatch.js';
import { isLivepatchSymbol, isRelocationSection, isUndefined } from '../../elf/predicates.js';
import type { Violation } from './types.js';

// Side tables describe the module's own instructions (ftrace call sites, ORC
// unwind addresses, exception fixups, alternatives ...): those fields must
// point into the module. One naming kernel code registers the wrong address
// (an mcount entry ftrace cannot use, ORC data that leaves the new code
// without unwind information and blocks transitions).

/** Section → which relocated fields of an entry are code addresses of the module (by offset in the entry). */
const CODE_FIELDS: { name: string; entry?: number; code: (offsetInEntry: number) => boolean }[] = [
  { name: '__mcount_loc', code: () => true },
  { name: '__patchable_function_entries', code: () => true },
  { name: '.orc_unwind_ip', code: () => true },
  { name: '__ex_table', code: () => true },
  { name: '__bug_table', code: () => true },
  { name: '.altinstructions', code: () => true },
  { name: '.return_sites', code: () => true },
  { name: '.retpoline_sites', code: () => true },
  { name: '.call_sites', code: () => true },
  { name: '.smp_locks', code: () => true },
  { name: '.parainstructions', code: () => true },
  // { code, target, key }: the key may be the kernel's
  { name: '__jump_table', entry: 16, code: (o) => o < 8 },
  // { addr, key }
  { name: '.static_call_sites', entry: 8, code: (o) => o < 4 },
];

/**
 * Tables the module loader reads when the module loads (static branches and
 * calls are set up then): a livepatch relocation there must be one the loader
 * applies first, against vmlinux (Linux 5.8 and later); one against a module
 * is applied only when that module loads, after the table was read.
 */
const READ_AT_LOAD = new Set(['__jump_table', '.static_call_sites']);

export function checkSideTables(module: ElfFile): Violation[] {
  const out: Violation[] = [];
  for (const s of module.sections) {
    if (!isRelocationSection(s.type) || !s.base) continue;
    const late = livepatchRelaObject(s.name);
    if (late && late !== 'vmlinux' && READ_AT_LOAD.has(s.base.name)) {
      for (const r of s.relas ?? []) {
        out.push({
          code: 'SIDE_TABLE_LATE',
          function: '(module)',
          symbol: r.symbol.name,
          expected: `a key the loader reaches when the patch loads (vmlinux's, or an export)`,
          actual: `${r.symbol.name} through ${s.name}`,
          message: `${s.base.name}+0x${r.offset.toString(16)} names ${r.symbol.name} of ${late}, resolved only when ${late} loads: the kernel reads ${s.base.name} when the patch loads, before that`,
        });
      }
      continue;
    }
    const table = CODE_FIELDS.find((t) => t.name === s.base?.name);
    if (!table) continue;
    const entry = s.base.entsize || table.entry || 0;
    for (const r of s.relas ?? []) {
      const inEntry = entry ? Number(r.offset % BigInt(entry)) : 0;
      if (!table.code(inEntry) || !(isLivepatchSymbol(r.symbol) || isUndefined(r.symbol))) continue;
      const where = `${s.base.name}+0x${r.offset.toString(16)}`;
      out.push({
        code: 'SIDE_TABLE_KERNEL_CODE',
        function: '(module)',
        symbol: r.symbol.name,
        expected: `the module's own code (${where} describes an instruction of the new code)`,
        actual: `${r.symbol.name}${r.addend ? `+${r.addend}` : ''}`,
        message: `${where} points at the kernel's ${r.symbol.name}, not at the module's code: the entry describes the wrong instruction`,
      });
    }
  }
  return out;
}
