import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../../src/diff/index.js';
import { SHF_WRITE, STT_FUNC } from '../../../src/elf/constants.js';
import { findSymtab } from '../../../src/elf/edit.js';
import type { ElfFile, ElfRela } from '../../../src/elf/model.js';
import { RebootlessError } from '../../../src/errors/index.js';
import { NEW_CODE_PREFIX as NEW_PREFIX } from '../../../src/elf/livepatch.js';
import { extractPatchObject, type KernelSymbol, type PatchObject } from '../../../src/klp/extract.js';
import { pairCompiler, type Pair } from '../../helpers/diff-fixtures.js';

// The patch object refers to the running kernel's data, never to a copy of
// it, and names every kernel symbol as the original object does.

const { compilePair, work } = pairCompiler('rb-extract-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Extracted {
  po: PatchObject;
  asked: KernelSymbol[];
}

function extract(pair: Pair, origSections = new Set(pair.orig.sections.map((s) => s.name))): Extracted {
  const asked: KernelSymbol[] = [];
  const diff = diffObjects(pair.orig, pair.patched);
  const po = extractPatchObject(pair.patched, diff, {
    resolve: (s) => {
      if (s.name !== '__fentry__') asked.push(s);
      return { kind: 'klp', object: 'vmlinux', name: s.name, sympos: 0 };
    },
    origSections,
  });
  return { po, asked };
}

/** Relocations of the output's copy of a function, with the kernel symbol each placeholder stands for. */
function relocationsOf(po: PatchObject, fn: string): { target: string; addend: bigint }[] {
  const file: ElfFile = po.file;
  const sym = (findSymtab(file)?.symbols ?? []).find((s) => s.type === STT_FUNC && s.name === fn);
  const rela = file.sections.find((s) => s.relas && s.base === sym?.section);
  const names = new Map(po.placeholders.map((p) => [p.placeholder, p.name]));
  return (rela?.relas ?? []).map((r: ElfRela) => ({ target: names.get(r.symbol.name) ?? r.symbol.name, addend: r.addend }));
}

describe('extractPatchObject', () => {
  it('refers to existing statics reached with addends other than -4, and copies none of their sections', () => {
    const { po, asked } = extract(compilePair('pcrel-data'));
    expect(po.warnings).toEqual([]);
    const writable = po.file.sections.filter((s) => (s.flags & SHF_WRITE) !== 0n).map((s) => s.name);
    expect(writable).toEqual([]);
    expect(new Set(asked.map((a) => a.name))).toEqual(new Set(['last_report', 'tainted_mask']));
    const relas = relocationsOf(po, `${NEW_PREFIX}taint_word`);
    // cmpq $0x0,tainted_mask(%rip): the field is followed by a 1-byte immediate; movq $imm32,last_report(%rip): by 4 bytes
    expect(relas).toContainEqual({ target: 'tainted_mask', addend: -5n });
    expect(relas).toContainEqual({ target: 'last_report', addend: -8n });
  });

  it('names a renumbered static local by its original name, not the name another function now owns', () => {
    const { po, asked } = extract(compilePair('static-local-renumbered'));
    expect(po.functions).toEqual([{ oldName: 'second_name', newSymbol: `${NEW_PREFIX}second_name`, local: false }]);
    expect(new Set(asked.map((a) => `${a.name} ${a.local ? 'local' : 'global'}`))).toEqual(new Set(['buf.0 local']));
    expect(relocationsOf(po, `${NEW_PREFIX}second_name`).map((r) => r.target)).toContain('buf.0');
  });

  it('redirects a renumbered clone by its original name', () => {
    const pair = compilePair('constprop-renumbered', ['-fipa-cp-clone']);
    const diff = diffObjects(pair.orig, pair.patched);
    const { po } = extract(pair);
    for (const f of po.functions) {
      const fd = diff.functions.find((d) => d.include === 'patch' && (d.twin ?? d.name) === f.oldName);
      expect(fd, f.oldName).toBeDefined();
    }
    const renamed = diff.functions.filter((d) => d.include === 'patch' && d.twin);
    expect(po.functions.map((f) => f.oldName)).toEqual(expect.arrayContaining(renamed.map((d) => d.twin)));
  });

  it('gives new code of a GCC clone a C identifier, keeping the original name to redirect', () => {
    const { po } = extract(compilePair('part-clone'));
    for (const f of po.functions) expect(f.newSymbol, f.oldName).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    const names = (findSymtab(po.file)?.symbols ?? []).map((s) => s.name);
    expect(names.filter((n) => n.startsWith(NEW_PREFIX) && /[^A-Za-z0-9_]/.test(n))).toEqual([]);
  });

  it('points the side-table entries of a body with two names at the copy, never at the kernel through the alias', () => {
    const { po } = extract(compilePair('function-alias'));
    expect(po.functions.map((f) => f.oldName)).toEqual(['__ia32_sys_answer']);
    expect(po.placeholders.map((p) => p.name)).not.toContain('__x64_sys_answer');
    const mcount = po.file.sections.find((s) => s.relas && s.base?.name === '__mcount_loc');
    expect(mcount?.relas?.map((r) => r.symbol.name)).toEqual([`${NEW_PREFIX}__ia32_sys_answer`]);
  });

  it('refuses to copy anonymous writable data that the original object already has', () => {
    const pair = compilePair('pcrel-data');
    // the same object, but its statics' symbols hidden: the place has no name, and the section exists in the kernel
    const patched = pair.patched;
    const symtab = findSymtab(patched);
    const hidden = (symtab?.symbols ?? []).filter((s) => s.name === 'tainted_mask');
    expect(hidden.length).toBe(1);
    const saved = hidden.map((s) => ({ s, size: s.size, type: s.type }));
    try {
      for (const s of hidden) {
        s.size = 0;
        s.type = 0;
        s.name = '';
      }
      let err: unknown;
      try {
        extractPatchObject(patched, diffObjects(pair.orig, pair.patched), { resolve: (s) => ({ kind: 'klp', object: 'vmlinux', name: s.name, sympos: 0 }), origSections: new Set(pair.orig.sections.map((s) => s.name)) });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RebootlessError);
      expect((err as RebootlessError).code).toBe('BUILD_REFERENCE_UNRESOLVED');
      expect((err as RebootlessError).message).toMatch(/(taint_word|add_taint_bit)\+0x[0-9a-f]+: .*\.bss\.tainted_mask\+0x0/);
    } finally {
      for (const { s, size, type } of saved) Object.assign(s, { size, type, name: 'tainted_mask' });
    }
  });
});
