import { describe, expect, it } from 'vitest';
import { R_X86_64_PC32, SHF_ALLOC, SHF_EXECINSTR, SHF_RELA_LIVEPATCH, SHN_LIVEPATCH, SHT_PROGBITS, STB_GLOBAL, STT_FUNC } from '../../../src/elf/constants.js';
import { createRelocatable } from '../../../src/elf/create.js';
import { addRelaSection, addSection, addSymbol, findSymtab } from '../../../src/elf/edit.js';
import { parseElf } from '../../../src/elf/parse.js';
import { serializeElf } from '../../../src/elf/serialize.js';
import { renderModuleSource } from '../../../src/klp/module-source.js';
import { convertToLivepatch, klpSymbolName } from '../../../src/klp/postlink.js';

describe('livepatch module source', () => {
  it('imports each namespace of the exports it uses, once', () => {
    const c = renderModuleSource({ name: 'ns', replace: true, objects: [], importNamespaces: ['CXL', 'CRYPTO_INTERNAL', 'CXL'] });
    expect(c.match(/MODULE_IMPORT_NS\(\w+\);/g)).toEqual(['MODULE_IMPORT_NS(CRYPTO_INTERNAL);', 'MODULE_IMPORT_NS(CXL);']);
    expect(renderModuleSource({ name: 'plain', replace: true, objects: [] })).not.toContain('MODULE_IMPORT_NS');
  });

  it('declares the new code and lists each function with its sympos, per object', () => {
    const c = renderModuleSource({
      name: 'fix',
      replace: false,
      cves: ['CVE-2026-0001'],
      objects: [
        { module: null, funcs: [{ oldName: 'cmdline_proc_show', newSymbol: '__rebootless_new_cmdline_proc_show', sympos: 0 }] },
        { module: 'binfmt_misc', funcs: [{ oldName: 'bm_status_read', newSymbol: '__rebootless_new_bm_status_read', sympos: 2 }] },
      ],
    });
    expect(c).toContain('extern char __rebootless_new_cmdline_proc_show[];');
    expect(c).toContain('{ .old_name = "cmdline_proc_show", .new_func = __rebootless_new_cmdline_proc_show, .old_sympos = 0 },');
    expect(c).toContain('{ .old_name = "bm_status_read", .new_func = __rebootless_new_bm_status_read, .old_sympos = 2 },');
    expect(c).toContain('{ .name = NULL, .funcs = funcs_0 },');
    expect(c).toContain('{ .name = "binfmt_misc", .funcs = funcs_1 },');
    expect(c).toContain('.replace = false,');
    expect(c).toContain('MODULE_INFO(livepatch, "Y");');
    expect(c).toContain('MODULE_INFO(cve, "CVE-2026-0001");');
  });

  it("puts the callbacks on their target's object, declared with the core's prototypes", () => {
    const c = renderModuleSource({
      name: 'cb',
      replace: true,
      objects: [{ module: null, funcs: [], callbacks: { pre_patch: '__rebootless_new_check', post_unpatch: '__rebootless_new_free' } }],
    });
    expect(c).toContain('extern int __rebootless_new_check(struct klp_object *obj);');
    expect(c).toContain('extern void __rebootless_new_free(struct klp_object *obj);');
    expect(c).toContain('{ .name = NULL, .funcs = funcs_0, .callbacks = { .pre_patch = __rebootless_new_check, .post_unpatch = __rebootless_new_free } },');
    expect(c).not.toContain('.states');
  });

  it('lists the states the patch declares on the klp_patch', () => {
    const c = renderModuleSource({ name: 'st', replace: true, objects: [], states: [{ id: '18446744073709551615', version: 2 }] });
    expect(c).toContain('static struct klp_state states[] = {\n\t{ .id = 18446744073709551615UL, .version = 2 },\n\t{ }\n};');
    expect(c).toContain('\t.objs = objs,\n\t.states = states,\n\t.replace = true,');
  });
});

describe('post-link livepatch relocations', () => {
  it('moves relocations against placeholders into .klp.rela sections and makes the placeholders SHN_LIVEPATCH symbols', () => {
    const f = createRelocatable('t.ko');
    const text = addSection(f, { name: '.text.f', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(16) });
    addSymbol(f, { name: 'f', type: STT_FUNC, bind: STB_GLOBAL, section: text, size: 16 });
    const ph = addSymbol(f, { name: '__rebootless_klp_0', bind: STB_GLOBAL });
    const exp = addSymbol(f, { name: 'printk', bind: STB_GLOBAL });
    addRelaSection(f, text, [
      { offset: 2n, type: R_X86_64_PC32, symbol: ph, addend: -4n },
      { offset: 8n, type: R_X86_64_PC32, symbol: exp, addend: -4n },
    ]);
    const p = { placeholder: '__rebootless_klp_0', object: 'vmlinux', name: 'saved_command_line', sympos: 0 };
    const r = convertToLivepatch(f, [p]);
    expect(r.moved).toEqual({ vmlinux: 1 });
    // through the writer and back, as the kernel will read it
    const back = parseElf(serializeElf(f), { file: 't.ko' });
    const klp = back.sections.find((s) => s.name === '.klp.rela.vmlinux.text.f');
    expect(klp?.flags !== undefined && (klp.flags & SHF_RELA_LIVEPATCH) !== 0n).toBe(true);
    expect(klp?.base?.name).toBe('.text.f');
    expect(klp?.relas?.map((x) => [x.offset, x.symbol.name])).toEqual([[2n, klpSymbolName(p)]]);
    expect(back.sections.find((s) => s.name === '.rela.text.f')?.relas?.map((x) => x.symbol.name)).toEqual(['printk']);
    const sym = findSymtab(back)?.symbols?.find((s) => s.name === '.klp.sym.vmlinux.saved_command_line,0');
    expect(sym?.shndx).toBe(SHN_LIVEPATCH);
  });
});
