import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../../src/diff/index.js';
import type { CallSite, DiffResult, FunctionDiff, SpecialSectionEntries } from '../../../src/diff/types.js';
import { R_X86_64_64, R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PLT32, STT_SECTION } from '../../../src/elf/constants.js';
import type { ElfFile, ElfSection } from '../../../src/elf/model.js';
import { parseElf } from '../../../src/elf/parse.js';
import { cli } from '../../helpers/cli.js';
import { FIXTURES, pairCompiler, type Pair } from '../../helpers/diff-fixtures.js';
import { runCliProcess } from '../../helpers/run-cli.js';
import { functionSymbol, relasOf, symbolsOf, targetName } from '../../helpers/object-symbols.js';

// The details of a DiffResult, each checked against an oracle computed here from
// the objects themselves (bytes, relocations, objdump): where the first
// difference is, which calls came and went, which special-section entries
// belong to a function; plus the renumbered-clone twin and the CLI contract.

const { compilePair, work } = pairCompiler('rb-diff-details-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function diffPair(name: string, extra: string[] = []): { pair: Pair; r: DiffResult } {
  const pair = compilePair(name, extra);
  return { pair, r: diffObjects(pair.orig, pair.patched) };
}

function fn(r: DiffResult, name: string, status?: FunctionDiff['status']): FunctionDiff {
  const found = r.functions.filter((f) => f.name === name && (!status || f.status === status));
  expect(found, name).toHaveLength(1);
  return found[0] as FunctionDiff;
}

// ---- oracles -------------------------------------------------------------

const fieldSize = (type: number): number => (type === R_X86_64_64 || type === R_X86_64_PC64 ? 8 : 4);

/** Instruction start offsets of a function, from objdump. */
function objdumpStarts(objPath: string, file: ElfFile, name: string): { offset: number; mnemonic: string }[] {
  const sym = functionSymbol(file, name);
  const text = execFileSync('objdump', ['-d', '--insn-width=16', `--section=${sym.section?.name ?? ''}`, objPath], { encoding: 'utf8' });
  const out: { offset: number; mnemonic: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t(?:[0-9a-f]{2} ?)+\s*\t(\S+)/.exec(line);
    if (m) out.push({ offset: parseInt(m[1] as string, 16) - Number(sym.value), mnemonic: m[2] as string });
  }
  return out;
}

/**
 * The first instruction of `name` whose bytes (relocated fields masked) or
 * relocations (type, target, addend) differ between the objects: what
 * `firstDifference` must point at when the function differs itself.
 */
function firstDifferentInstruction(pair: Pair, name: string): { offset: number; mnemonic: string } {
  const view = (file: ElfFile) => {
    const sym = functionSymbol(file, name);
    const sec = sym.section as ElfSection;
    const start = Number(sym.value);
    const bytes = Uint8Array.from(sec.data.subarray(start, start + sym.size));
    const relocs = new Map<number, string>();
    for (const r of relasOf(file, sec)) {
      const at = Number(r.offset) - start;
      if (at < 0 || at >= sym.size) continue;
      bytes.fill(0, at, at + fieldSize(r.type));
      relocs.set(at, `${r.type} ${targetName(file, r)} ${r.addend}`);
    }
    return { bytes, relocs };
  };
  const o = view(pair.orig);
  const p = view(pair.patched);
  let first = -1;
  for (let i = 0; i < Math.max(o.bytes.length, p.bytes.length); i++) {
    if (o.bytes[i] !== p.bytes[i] || o.relocs.get(i) !== p.relocs.get(i)) {
      first = i;
      break;
    }
  }
  if (first < 0) throw new Error(`${name} does not differ`);
  const starts = objdumpStarts(pair.patchedPath, pair.patched, name);
  const insn = [...starts].reverse().find((s) => s.offset <= first);
  if (!insn) throw new Error(`no instruction at ${first}`);
  return insn;
}

/** Call and jump sites of a function (e8/e9 with a relocated target), by callee name. */
function callSites(file: ElfFile, name: string): CallSite[] {
  const sym = functionSymbol(file, name);
  const sec = sym.section as ElfSection;
  return relasOf(file, sec)
    .filter((r) => (r.type === R_X86_64_PLT32 || r.type === R_X86_64_PC32) && r.offset >= 1n)
    .filter((r) => [0xe8, 0xe9].includes(sec.data[Number(r.offset) - 1] as number))
    .map((r) => ({ callee: targetName(file, r), offset: Number(r.offset) - 1 - Number(sym.value) }))
    .filter((c) => c.callee !== '__fentry__');
}

const ENTRY_SIZES: Record<string, number> = { __bug_table: 12, __ex_table: 12, __jump_table: 16, __mcount_loc: 8, '.static_call_sites': 8 };

/** Entries of the known special sections whose first field points into the function. */
function specialEntriesOf(file: ElfFile, name: string): SpecialSectionEntries[] {
  const sym = functionSymbol(file, name);
  const out: SpecialSectionEntries[] = [];
  for (const [section, size] of Object.entries(ENTRY_SIZES)) {
    const sec = file.sections.find((s) => s.name === section);
    if (!sec) continue;
    const entries = relasOf(file, sec)
      .filter((r) => Number(r.offset) % size === 0)
      .filter((r) => {
        const target = (r.symbol.type === STT_SECTION ? 0n : r.symbol.value) + r.addend;
        const sameSection = r.symbol.section === sym.section;
        return sameSection && target >= sym.value && target < sym.value + BigInt(sym.size);
      })
      .map((r) => ({ offset: Number(r.offset), size }))
      .sort((a, b) => a.offset - b.offset);
    if (entries.length) out.push({ section, entrySize: size, entries });
  }
  return out;
}

const bySection = (groups: SpecialSectionEntries[] | undefined): SpecialSectionEntries[] =>
  (groups ?? []).filter((g) => g.section in ENTRY_SIZES).sort((a, b) => a.section.localeCompare(b.section));
const sortSites = (sites: CallSite[] | undefined): CallSite[] => [...(sites ?? [])].sort((a, b) => a.offset - b.offset || a.callee.localeCompare(b.callee));

// ---- tests ---------------------------------------------------------------

describe('firstDifference', () => {
  const cases: [string, string, string[]?][] = [
    ['simple-change', 'clamp_value'],
    ['local-function', 'checksum'],
    ['inlined-helper', 'scale_first'],
    ['inlined-helper', 'scale_second'],
    ['isra-clone', 'req_weight.isra.0'],
    ['static-local-added', 'maybe_flush'],
    ['removed-call', 'handle_event'],
    ['data-size', 'record'],
    ['notrace-global', 'fast_path'],
    ['bug-ex-table', 'buffer_fetch'],
    ['jump-label', 'handle_packet'],
    ['constprop-renumbered', 'first', ['-fipa-cp-clone']],
  ];
  it.each(cases)('%s: %s starts differing where the bytes or relocations first differ', (name, func, extra) => {
    const { pair, r } = diffPair(name, extra);
    const want = firstDifferentInstruction(pair, func);
    const d = fn(r, func, 'changed').firstDifference;
    expect(d?.offset, JSON.stringify(d)).toBe(want.offset);
    // the disassembly names the instruction objdump sees there
    expect(d?.patched?.split(/\s+/)[0], JSON.stringify(d)).toBe(want.mnemonic);
    expect(d?.orig, 'the orig side of the difference').toBeTruthy();
  });

  it('simple-change: the changed constant shows in both texts', () => {
    const d = fn(diffPair('simple-change').r, 'clamp_value').firstDifference;
    expect(d?.orig).toMatch(/0x1\b/);
    expect(d?.patched).toMatch(/0x2\b/);
  });

  it('string-literal: same code, changed string → the instruction that loads the string', () => {
    const { pair, r } = diffPair('string-literal');
    const sym = functionSymbol(pair.patched, 'greet');
    const load = relasOf(pair.patched, sym.section as ElfSection).find((x) => x.symbol.section?.name === '.rodata.greet.str1.1');
    const starts = objdumpStarts(pair.patchedPath, pair.patched, 'greet');
    const insn = [...starts].reverse().find((s) => s.offset <= Number(load?.offset));
    const f = fn(r, 'greet', 'changed');
    expect(f.firstDifference?.offset, JSON.stringify(f)).toBe(insn?.offset);
  });
});

describe('new and removed callees', () => {
  it('new-function: the new call, at its offset in the patched function', () => {
    const { pair, r } = diffPair('new-function');
    const site = callSites(pair.patched, 'frontend_write').find((c) => c.callee === 'frontend_validate');
    expect(site).toBeDefined();
    const f = fn(r, 'frontend_write');
    expect(sortSites(f.newCallees)).toEqual([site]);
    expect(f.removedCallees ?? []).toEqual([]);
  });

  it('removed-call: both removed calls, at their offsets in the orig function', () => {
    const { pair, r } = diffPair('removed-call');
    const sites = callSites(pair.orig, 'handle_event');
    expect(sites.map((s) => s.callee).sort()).toEqual(['audit_event', 'trace_event']);
    const f = fn(r, 'handle_event');
    expect(sortSites(f.removedCallees)).toEqual(sortSites(sites));
    expect(f.newCallees ?? []).toEqual([]);
  });

  it('a function whose calls did not change lists no callees', () => {
    for (const [name, func] of [
      ['simple-change', 'clamp_value'],
      ['local-function', 'checksum'],
      ['data-size', 'record'],
    ] as const) {
      const f = fn(diffPair(name).r, func, 'changed');
      expect(f.newCallees ?? [], `${name} ${func}`).toEqual([]);
      expect(f.removedCallees ?? [], `${name} ${func}`).toEqual([]);
    }
  });

  it('constprop-renumbered: callees are real symbol names, the renumbered clone is no new callee', () => {
    const { pair, r } = diffPair('constprop-renumbered', ['-fipa-cp-clone']);
    const first = fn(r, 'first');
    expect(sortSites(first.removedCallees)).toEqual(callSites(pair.orig, 'first'));
    expect(sortSites(first.newCallees)).toEqual(callSites(pair.patched, 'first'));
    expect(callSites(pair.patched, 'first').map((c) => c.callee)).toEqual(['work']);
    const second = fn(r, 'second');
    expect(second.status).toBe('same');
    expect(second.newCallees ?? []).toEqual([]);
  });
});

describe('special-section entries of included functions', () => {
  it.each([
    ['bug-ex-table', 'buffer_fetch', ['__bug_table', '__ex_table', '__mcount_loc']],
    ['jump-label', 'handle_packet', ['__jump_table', '__mcount_loc']],
    ['simple-change', 'clamp_value', ['__mcount_loc']],
  ] as const)('%s: %s has exactly its own entries', (name, func, sections) => {
    const { pair, r } = diffPair(name);
    const want = specialEntriesOf(pair.patched, func);
    expect(want.map((g) => g.section)).toEqual(sections);
    expect(bySection(r.specialEntries[func])).toEqual(want);
  });

  it('static-call: the static call site of a changed function (vmlinux)', () => {
    const { origPath, patchedPath } = compilePair('static-call-module');
    // objtool writes .static_call_sites with sh_entsize 8 (struct static_call_site); the fixture's
    // assembler cannot set an entry size without making the section mergeable, so set it as objtool would
    const [orig, patched] = [origPath, patchedPath].map((file) => {
      const elf = parseElf(readFileSync(file), { file });
      for (const s of elf.sections) if (s.name === '.static_call_sites') s.entsize = 8;
      return elf;
    }) as [ElfFile, ElfFile];
    const pair = { origPath, patchedPath, orig, patched };
    const r = diffObjects(orig, patched);
    const want = specialEntriesOf(pair.patched, 'filter');
    expect(want.map((g) => g.section)).toContain('.static_call_sites');
    expect(bySection(r.specialEntries.filter)).toEqual(want);
  });

  it('notrace-static: carried functions have their entries too; unchanged ones have none', () => {
    const { pair, r } = diffPair('notrace-static');
    for (const f of ['mix_forward', 'mix_both']) expect(bySection(r.specialEntries[f]), f).toEqual(specialEntriesOf(pair.patched, f));
    expect(r.specialEntries.no_mix).toBeUndefined();
  });
});

describe('renumbered clones', () => {
  it('work.constprop.1 became work.constprop.0: twins both ways', () => {
    const { pair, r } = diffPair('constprop-renumbered', ['-fipa-cp-clone']);
    expect(fn(r, 'work.constprop.0', 'same').twin).toBe('work.constprop.1');
    expect(fn(r, 'work.constprop.0', 'removed').twin).toBeUndefined();
    const back = diffObjects(pair.patched, pair.orig);
    expect(fn(back, 'work.constprop.1', 'same').twin).toBe('work.constprop.0');
    expect(fn(back, 'work.constprop.0', 'new').include).toBe('carry');
    expect(fn(back, 'work', 'removed')).toBeDefined();
  });

  it('special-statics: an unchanged user of a renumbered switch table is the same', () => {
    const { pair, r } = diffPair('special-statics');
    const names = (f: ElfFile) => symbolsOf(f).filter((s) => s.name.startsWith('CSWTCH.')).map((s) => s.name);
    expect(names(pair.orig)).not.toEqual(names(pair.patched));
    expect(fn(r, 'weight_of').status).toBe('same');
  });
});

describe('ignored sections', () => {
  it('comment-only with -g: the debug sections changed and are reported as ignored', () => {
    const { r } = diffPair('comment-only', ['-g']);
    expect(r.verdict).toBe('no-change');
    expect(r.ignoredSections).toEqual(expect.arrayContaining(['.debug_line']));
    expect(r.ignoredSections.every((s) => s.startsWith('.debug') || s.startsWith('.rela.debug')), r.ignoredSections.join()).toBe(true);
  });
});

describe('rebootless diff (CLI)', () => {
  it('exit 0 for a patchable change, with the changed function in the text', async () => {
    const { pair } = diffPair('simple-change');
    const res = await cli(['diff', pair.origPath, pair.patchedPath]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('clamp_value');
    expect(res.stdout).not.toContain('double_value');
  });

  it('exit 2 for an unpatchable change, naming the refusal and the symbol', async () => {
    const { pair } = diffPair('data-initializer');
    const res = await cli(['diff', pair.origPath, pair.patchedPath]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout + res.stderr).toContain('DATA_CHANGED');
    expect(res.stdout + res.stderr).toContain('retry_limits');
  });

  it('exit 3 for no functional change', async () => {
    const { pair } = diffPair('line-shift');
    const res = await cli(['diff', pair.origPath, pair.patchedPath]);
    expect(res.code, res.stdout + res.stderr).toBe(3);
  });

  it('--module turns a module-keyed static branch into a refusal', async () => {
    const { pair } = diffPair('static-key-module');
    expect((await cli(['diff', pair.origPath, pair.patchedPath])).code).toBe(0);
    const res = await cli(['diff', pair.origPath, pair.patchedPath, '--module']);
    expect(res.code).toBe(2);
    expect(res.stdout + res.stderr).toContain('STATIC_KEY_IN_MODULE');
  });

  it('--json prints the DiffResult itself', async () => {
    for (const [name, module] of [
      ['notrace-static', false],
      ['bug-ex-table', false],
      ['new-export', false],
      ['static-call-module', true],
    ] as const) {
      const { pair } = diffPair(name);
      const res = await cli(['diff', pair.origPath, pair.patchedPath, '--json', ...(module ? ['--module'] : [])]);
      const want = JSON.parse(JSON.stringify(diffObjects(pair.orig, pair.patched, module ? { module } : {}))) as DiffResult;
      expect(JSON.parse(res.stdout), name).toEqual(want);
      expect(res.code, name).toBe(want.verdict === 'patchable' ? 0 : want.verdict === 'no-change' ? 3 : 2);
    }
  });

  it('several pairs in one run: each result in turn, the exit code the worst verdict', async () => {
    const patchable = diffPair('simple-change').pair;
    const noChange = diffPair('line-shift').pair;
    const unpatchable = diffPair('data-initializer').pair;
    const one = async (p: typeof patchable) => cli(['diff', p.origPath, p.patchedPath]);
    const both = await cli(['diff', patchable.origPath, patchable.patchedPath, noChange.origPath, noChange.patchedPath]);
    expect(both.stdout).toBe((await one(patchable)).stdout + (await one(noChange)).stdout);
    expect(both.code).toBe(3);
    const three = await cli(['diff', noChange.origPath, noChange.patchedPath, unpatchable.origPath, unpatchable.patchedPath, patchable.origPath, patchable.patchedPath]);
    expect(three.code).toBe(2);
    const json = await cli(['diff', '--json', patchable.origPath, patchable.patchedPath, noChange.origPath, noChange.patchedPath]);
    expect(JSON.parse(json.stdout)).toEqual({ diffs: [patchable, noChange].map((p) => JSON.parse(JSON.stringify(diffObjects(p.orig, p.patched))) as DiffResult) });
    expect(json.code).toBe(3);
    const odd = await cli(['diff', patchable.origPath, patchable.patchedPath, noChange.origPath]);
    expect(odd.code).toBe(64);
    expect(odd.stderr).toContain('pairs');
  });

  it('usage errors exit 64; an unreadable object exits 1 with a message', async () => {
    const { pair } = diffPair('simple-change');
    expect((await cli(['diff', pair.origPath])).code).toBe(64);
    const missing = await cli(['diff', pair.origPath, path.join(work, 'missing.o')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('missing.o');
    const notElf = await cli(['diff', pair.origPath, path.join(FIXTURES, 'kernel-ish.h')]);
    expect(notElf.code).toBe(1);
    expect(notElf.stderr).toContain('kernel-ish.h');
  });

  it('as a process: the exit code and --json reach the shell', async () => {
    const { pair } = diffPair('init-change');
    const res = await runCliProcess(['diff', pair.origPath, pair.patchedPath, '--json'], { NO_COLOR: '1' });
    expect(res.code, res.stderr).toBe(2);
    const json = JSON.parse(res.stdout) as DiffResult;
    expect(json.verdict).toBe('unpatchable');
    expect(json.refusals.map((x) => x.code)).toContain('INIT_CHANGED');
  });
});
