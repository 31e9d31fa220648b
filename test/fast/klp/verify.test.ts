import { describe, expect, it } from 'vitest';
import { ElfSection, findSymtab, SHT_PROGBITS, type ElfFile } from '../../../src/elf/index.js';
import { R_X86_64_PC64, SHF_ALLOC, SHF_RELA_LIVEPATCH, SHF_WRITE, SHN_LIVEPATCH, STB_GLOBAL, STT_NOTYPE } from '../../../src/elf/constants.js';
import { addRelaSection, addSection, addSymbol } from '../../../src/elf/edit.js';
import { formatLivepatchRelaSectionName } from '../../../src/elf/livepatch.js';
import { checkSideTables } from '../../../src/klp/verify/side-tables.js';
import { RebootlessError } from '../../../src/errors/index.js';
import { EXPORTS, miniVmlinux, patchModule, staticBuf, verifyAgainst } from '../../helpers/verify-fixtures.js';

// verify on a miniature vmlinux and livepatch modules for its print_tainted,
// one per kind of violation, and a clean one. The original print_tainted
// reads tainted_mask, writes its own buf.N and calls helper.

const vmlinux = miniVmlinux();
const ownBuf = staticBuf(vmlinux, 32);
const otherBuf = staticBuf(vmlinux, 64);
const rateLimit = (findSymtab(vmlinux)?.symbols ?? []).find((s) => s.name.startsWith('_rs.'))?.name ?? '_rs';
const right = { tainted_mask: { name: 'tainted_mask', sympos: 0 }, buf: { name: ownBuf, sympos: 0 }, helper: { name: 'helper', sympos: 0 }, rs: { name: rateLimit, sympos: 0 } };
const codes = (v: { code: string }[]): string[] => v.map((x) => x.code);

describe('verify', () => {
  it('passes a module whose every reference is the original\'s', () => {
    const r = verifyAgainst(vmlinux, patchModule([], right));
    expect(r.violations).toEqual([]);
    expect(r.compared).toEqual(['print_tainted']);
  });

  it('flags module-local data named like kernel data the original reads (COPIED_DATA), through a PC-relative addend of -5', () => {
    const { tainted_mask: _, ...rest } = right;
    const r = verifyAgainst(vmlinux, patchModule(['COPIED'], rest));
    expect(r.violations.map((v) => [v.code, v.function, v.symbol])).toEqual([['COPIED_DATA', 'print_tainted', 'tainted_mask']]);
    expect(r.violations[0]?.expected).toMatch(/^vmlinux:tainted_mask \(0xffffffff8/);
    expect(r.violations[0]?.actual).toBe("the module's own .bss.tainted_mask+0x0");
  });

  it('passes a new static named like kernel data the new code still uses (GCC renumbering, not a copy)', () => {
    expect(verifyAgainst(vmlinux, patchModule(['NEWSTATIC'], right)).violations).toEqual([]);
  });

  it('flags a writable data section of the module named like kernel data the original uses, even unreferenced', () => {
    const { tainted_mask: _, ...rest } = right;
    const r = verifyAgainst(vmlinux, patchModule(['STRAY'], rest));
    expect(r.violations.map((v) => [v.code, v.function, v.symbol])).toEqual([['COPIED_DATA', '(module)', 'tainted_mask']]);
  });

  it('flags a static of the same base name but another function\'s (WRONG_TWIN: buf.N of panic_message)', () => {
    const r = verifyAgainst(vmlinux, patchModule([], { ...right, buf: { name: otherBuf, sympos: 0 } }));
    expect(new Set(codes(r.violations))).toEqual(new Set(['WRONG_TWIN']));
    expect(r.violations[0]).toMatchObject({ function: 'print_tainted', symbol: `.klp.sym.vmlinux.${otherBuf},0` });
    expect(r.violations[0]?.expected).toContain(`vmlinux:${ownBuf}`);
    expect(r.violations[0]?.actual).toContain(`vmlinux:${otherBuf}`);
  });

  it('flags a .klp.sym with no symbol at its sympos, or no such symbol (KLP_SYM_MISSING)', () => {
    const r = verifyAgainst(vmlinux, patchModule([], { ...right, tainted_mask: { name: 'tainted_mask', sympos: 2 }, helper: { name: 'helper_gone', sympos: 0 } }));
    const missing = r.violations.filter((v) => v.code === 'KLP_SYM_MISSING');
    expect(missing.map((v) => v.symbol).sort()).toEqual(['.klp.sym.vmlinux.helper_gone,0', '.klp.sym.vmlinux.tainted_mask,2']);
    expect(missing.find((v) => v.symbol.includes('tainted_mask'))).toMatchObject({ function: 'print_tainted', expected: 'tainted_mask at sympos 2 in vmlinux' });
    expect(missing.find((v) => v.symbol.includes('helper_gone'))?.actual).toBe('no symbol named helper_gone in vmlinux');
  });

  it("accepts the patch's own per-call-site state (a ratelimit _rs.N) where the original uses the kernel's; other copied data stays COPIED_DATA", () => {
    const { rs: _, ...rest } = right;
    expect(verifyAgainst(vmlinux, patchModule(['RATELIMIT'], rest)).violations).toEqual([]);
    const { tainted_mask: __, ...others } = rest;
    expect(codes(verifyAgainst(vmlinux, patchModule(['RATELIMIT', 'COPIED'], others)).violations)).toEqual(['COPIED_DATA']);
  });

  it('flags an undefined symbol that is not exported, and an export whose namespace is not imported', () => {
    const exports = new Map([...EXPORTS].filter(([k]) => k !== 'exported_fn'));
    const r = verifyAgainst(vmlinux, patchModule(['IMPORTS'], right), exports);
    expect(r.violations.map((v) => [v.code, v.symbol, v.function])).toEqual([
      ['EXPORT_MISSING', 'exported_fn', 'print_tainted'],
      ['NAMESPACE_NOT_IMPORTED', 'namespaced_fn', 'print_tainted'],
    ]);
    expect(r.violations[1]?.expected).toBe('MODULE_IMPORT_NS(TESTNS)');
  });

  it('flags a side-table entry for the new code that points at kernel code (SIDE_TABLE_KERNEL_CODE)', () => {
    const module = patchModule([], right);
    // as a module whose __mcount_loc entry followed an alias of the patched function into the kernel
    const klpHelper = findSymtab(module)?.symbols?.find((s) => s.name === '.klp.sym.vmlinux.helper,0');
    const mcount = module.sections.find((s) => s.base?.name === '__mcount_loc');
    const entry = mcount?.relas?.[0];
    if (!klpHelper || !entry) throw new Error('fixture has no __mcount_loc entry or .klp.sym for helper');
    entry.symbol = klpHelper;
    const r = verifyAgainst(vmlinux, module);
    // (left in the normal relocation section, it is also a .klp.sym the module loader cannot resolve)
    expect(r.violations.map((v) => [v.code, v.symbol])).toEqual([
      ['KLP_RELA_MISMATCH', '.klp.sym.vmlinux.helper,0'],
      ['SIDE_TABLE_KERNEL_CODE', '.klp.sym.vmlinux.helper,0'],
    ]);
    expect(r.violations[0]?.message).toContain('__mcount_loc+0x0');
  });

  it("accepts a static branch on vmlinux's unexported key through .klp.rela.vmlinux.__jump_table, flags one on a module's key (SIDE_TABLE_LATE)", () => {
    const withBranchOn = (object: string): ElfFile => {
      const m = patchModule([], right);
      const table = addSection(m, { name: '__jump_table', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, addralign: 8, entsize: 16, data: new Uint8Array(16) });
      const key = addSymbol(m, { name: `.klp.sym.${object}.some_key,0`, bind: STB_GLOBAL, type: STT_NOTYPE });
      key.section = null;
      key.shndx = SHN_LIVEPATCH;
      const rela = addRelaSection(m, table, [{ offset: 8n, type: R_X86_64_PC64, symbol: key, addend: 0n }]);
      rela.name = formatLivepatchRelaSectionName(object, '__jump_table');
      rela.flags |= SHF_RELA_LIVEPATCH;
      return m;
    };
    expect(checkSideTables(withBranchOn('vmlinux'))).toEqual([]);
    const late = checkSideTables(withBranchOn('kvm'));
    expect(late.map((v) => [v.code, v.symbol])).toEqual([['SIDE_TABLE_LATE', '.klp.sym.kvm.some_key,0']]);
    expect(late[0]?.message).toContain('resolved only when kvm loads');
  });

  it('turns violations into VERIFY_FAILED (exit 2) naming code, function, symbol and both targets', () => {
    const r = verifyAgainst(vmlinux, patchModule([], { ...right, buf: { name: otherBuf, sympos: 0 } }));
    const e = new RebootlessError('VERIFY_FAILED', { module: 'livepatch_verify', against: '6.1.0-57-cloud-amd64', violations: r.violations });
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('print_tainted');
    expect(e.message).toContain('WRONG_TWIN');
    expect(e.message).toContain(`vmlinux:${ownBuf}`);
    expect(e.message).toContain(`vmlinux:${otherBuf}`);
  });

  it('checks the release code a module carries for apply: the release\'s bytes pass, other bytes or another sympos are LIVE_CODE_WRONG', () => {
    const fn = (findSymtab(vmlinux)?.symbols ?? []).find((x) => x.name === 'print_tainted');
    const sec = fn?.section;
    if (!fn || !sec) throw new Error('no print_tainted in the miniature vmlinux');
    const bytes = Buffer.from(sec.data.subarray(Number(fn.value - sec.addr), Number(fn.value - sec.addr) + fn.size));
    const carrying = (entry: object): ReturnType<typeof patchModule> => {
      const m = patchModule([], right);
      m.sections.push(new ElfSection({ name: '.rebootless.live_code', type: SHT_PROGBITS, data: new TextEncoder().encode(JSON.stringify({ version: 1, functions: [entry] })) }));
      return m;
    };
    const entry = { object: 'vmlinux', name: 'print_tainted', sympos: 0, bytes: bytes.toString('hex') };
    expect(verifyAgainst(vmlinux, carrying(entry)).violations).toEqual([]);
    const other = Buffer.from(bytes);
    other.writeUInt8((other.at(-1) ?? 0) ^ 0xff, other.length - 1);
    expect(codes(verifyAgainst(vmlinux, carrying({ ...entry, bytes: other.toString('hex') })).violations)).toEqual(['LIVE_CODE_WRONG']);
    expect(codes(verifyAgainst(vmlinux, carrying({ ...entry, sympos: 2 })).violations)).toEqual(['LIVE_CODE_WRONG']);
  });
});
