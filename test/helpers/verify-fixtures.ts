import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findSymtab, parseElf, readKlpTables, serializeElf, type ElfFile } from '../../src/elf/index.js';
import type { Placeholder } from '../../src/klp/extract.js';
import { convertToLivepatch } from '../../src/klp/postlink.js';
import { targetObject, verifyLivepatch, type ExportInfo, type TargetSymbol, type Violation } from '../../src/klp/verify/index.js';
import { KERNEL_CFLAGS, elfWorkDir } from './elf-fixtures.js';
import { REPO } from './run-cli.js';

// verify's inputs built at test time: a miniature vmlinux (test/fixtures/
// verify/kernel.c linked at kernel addresses) and livepatch modules for it
// (patch.c), whose __klp_* placeholders become .klp.sym symbols as post-link
// makes them.

const DIR = path.join(REPO, 'test/fixtures/verify');
let counter = 0;

export function miniVmlinux(): ElfFile {
  const obj = path.join(elfWorkDir(), 'verify-kernel.o');
  const exe = path.join(elfWorkDir(), 'verify-vmlinux');
  execFileSync('gcc', ['-c', ...KERNEL_CFLAGS, path.join(DIR, 'kernel.c'), '-o', obj], { stdio: 'pipe' });
  execFileSync('ld', ['-o', exe, '-e', '0', '-Ttext=0xffffffff81000000', obj], { stdio: 'pipe' });
  return parseElf(readFileSync(exe), { file: exe });
}

/** The kernel's static `buf` of a function: print_tainted's is 32 bytes, panic_message's 64. */
export function staticBuf(vmlinux: ElfFile, size: 32 | 64): string {
  const s = (findSymtab(vmlinux)?.symbols ?? []).find((x) => x.name.startsWith('buf.') && x.size === size);
  if (!s) throw new Error('no buf.N in the miniature vmlinux');
  return s.name;
}

/** patch.c compiled with `defines`, placeholders __klp_<key> turned into .klp.sym.vmlinux.<name>,<sympos>, written and read back. */
export function patchModule(defines: string[], klp: Record<string, { name: string; sympos: number }>): ElfFile {
  const obj = path.join(elfWorkDir(), `verify-patch${counter++}.o`);
  execFileSync('gcc', ['-c', ...KERNEL_CFLAGS, ...defines.map((d) => `-D${d}`), path.join(DIR, 'patch.c'), '-o', obj], { stdio: 'pipe' });
  const file = parseElf(readFileSync(obj), { file: obj });
  const placeholders: Placeholder[] = Object.entries(klp).map(([key, t]) => ({ placeholder: `__klp_${key}`, object: 'vmlinux', ...t }));
  convertToLivepatch(file, placeholders);
  return parseElf(serializeElf(file), { file: 'livepatch_verify.ko' });
}

export const EXPORTS = new Map<string, ExportInfo>([
  ['__fentry__', { module: 'vmlinux', namespace: '' }],
  ['exported_fn', { module: 'vmlinux', namespace: '' }],
  ['namespaced_fn', { module: 'vmlinux', namespace: 'TESTNS' }],
]);

/** verify as `rebootless verify` runs it: reading vmlinux code until nothing more is needed. */
export function verifyAgainst(vmlinux: ElfFile, module: ElfFile, exports = EXPORTS): { violations: Violation[]; compared: string[] } {
  const targets = new Map([['vmlinux', targetObject('vmlinux', vmlinux, 'address')]]);
  const code = new Map<TargetSymbol, Uint8Array>();
  const tables = readKlpTables(module);
  for (;;) {
    const r = verifyLivepatch({ module, tables, targets, exports, code });
    if (r.needCode.length === 0) return r;
    for (const s of r.needCode) {
      const sec = s.elf?.section;
      if (!sec) throw new Error(`no section for ${s.name}`);
      const at = Number(s.value - sec.addr);
      code.set(s, sec.data.subarray(at, at + s.size));
    }
  }
}
