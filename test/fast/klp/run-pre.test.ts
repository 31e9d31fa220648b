import { describe, expect, it } from 'vitest';
import { findSymtab } from '../../../src/elf/index.js';
import { kernelResolver } from '../../../src/klp/kernel-refs.js';
import { runPre, type RunPreTarget } from '../../../src/klp/run-pre/index.js';
import { buildIndex } from '../../../src/elf/lookup.js';
import { linkedTableSites, rewrittenSites } from '../../../src/klp/run-pre/expect.js';
import { compiledSites, compiledUnit, imageOf, release, replacing } from '../../helpers/run-pre-fixtures.js';
import { rejection } from '../../helpers/errors.js';

// run-pre against a miniature release whose two translation units share
// every static name: the compiled original must be byte for byte the
// release's code outside relocated fields, every relocated field must reach
// the entity the compiled relocation names, and that binds repeated locals.

const vmlinuxTarget = (): RunPreTarget => ({ kind: 'vmlinux', image: imageOf(release().vmlinux) });
const moduleTarget = (): RunPreTarget => ({ kind: 'module', name: 'mini', file: release().module });

describe('run-pre against a linked image (vmlinux)', () => {
  it('matches the unit that was linked, binding the repeated static function and its data to that unit\'s', async () => {
    const image = imageOf(release().vmlinux);
    for (const unit of [1, 2] as const) {
      const orig = compiledUnit(unit);
      const r = await runPre({ object: `unit${unit}.o`, orig, patched: orig, diff: replacing(orig, ['helper', `show_${unit}`]), target: { kind: 'vmlinux', image } });
      const helpers = image.symbolsNamed('helper');
      const counts = image.symbolsNamed('count');
      expect(helpers).toHaveLength(2);
      expect(counts).toHaveLength(2);
      expect(r.bound.get('helper')).toBe(helpers[unit - 1]);
      expect(r.bound.get('count')).toBe(counts[unit - 1]);
      const helper = r.checks.find((c) => c.name === 'helper');
      expect(helper).toMatchObject({ role: 'replaced', result: 'matched', sympos: unit, candidates: 2 });
      // show_N: printk (by name), the message (a merged string), count and helper (by name)
      const show = r.checks.find((c) => c.name === `show_${unit}`);
      expect(show?.relocations.string).toBe(1);
      expect(show?.relocations.symbol).toBeGreaterThanOrEqual(3);
    }
  });

  it('refuses a source that compiles to other code: RUN_PRE_MISMATCH names the function, the offset and both instructions', async () => {
    const orig = compiledUnit(1, ['DRIFT']);
    const e = await rejection(runPre({ object: 'unit1.o', orig, patched: orig, diff: replacing(orig, ['helper']), target: vmlinuxTarget() }));
    expect(e.code).toBe('RUN_PRE_MISMATCH');
    const d = e.data as { function: string; offset: number; compiled: string; running: string; candidates: string[] };
    expect(d.function).toBe('helper');
    expect(d.compiled).not.toBe(d.running);
    expect(d.compiled).toMatch(/^\+0x[0-9a-f]+: /);
    expect(d.running.startsWith(`+0x${d.offset.toString(16)}:`)).toBe(true);
    // compared with both helpers, matching neither
    expect(d.candidates).toHaveLength(2);
  });

  it('refuses code that reads another string than the release\'s', async () => {
    const orig = compiledUnit(1, ['MESSAGE="unit SAYS %d\\n"']);
    const e = await rejection(runPre({ object: 'unit1.o', orig, patched: orig, diff: replacing(orig, ['show_1']), target: vmlinuxTarget() }));
    expect(e.code).toBe('RUN_PRE_MISMATCH');
    expect((e.data as { why: string }).why).toMatch(/string "unit SAYS/);
  });

  it('a function the release does not have is reported absent, not matched', async () => {
    const orig = compiledUnit(1, ['EXTRA']);
    const r = await runPre({ object: 'unit1.o', orig, patched: orig, diff: replacing(orig, ['extra_1']), target: vmlinuxTarget() });
    expect(r.checks).toEqual([{ name: 'extra_1', role: 'replaced', result: 'absent', sympos: 0, candidates: 0, relocations: { symbol: 0, string: 0, section: 0 } }]);
  });
});

describe('run-pre against a module file (relocatable)', () => {
  it('picks the module\'s repeated static by its code and relocations', async () => {
    const table = findSymtab(release().module)?.symbols ?? [];
    const helpers = table.filter((s) => s.name === 'helper');
    expect(helpers).toHaveLength(2);
    for (const unit of [1, 2] as const) {
      const orig = compiledUnit(unit);
      const r = await runPre({ object: `unit${unit}.o`, orig, patched: orig, diff: replacing(orig, ['helper', `show_${unit}`]), target: moduleTarget() });
      expect(r.bound.get('helper')).toBe(helpers[unit - 1]);
      expect(r.checks[0]).toMatchObject({ name: 'helper', result: 'matched', sympos: unit });
      // the release's unit was assembled without a section per function: its call to helper has no
      // relocation, and the place its bytes reach is what ours names
      expect(r.checks[1]).toMatchObject({ name: `show_${unit}`, result: 'matched' });
    }
  });

  it('refuses drifted code in a module', async () => {
    const orig = compiledUnit(2, ['DRIFT']);
    const e = await rejection(runPre({ object: 'unit2.o', orig, patched: orig, diff: replacing(orig, ['helper']), target: moduleTarget() }));
    expect(e.code).toBe('RUN_PRE_MISMATCH');
    expect((e.data as { target: string }).target).toBe('mini');
  });
});

describe('the resolver takes run-pre\'s bindings', () => {
  it('a repeated local name that FILE blocks cannot tell apart is resolved by code', async () => {
    const { vmlinux } = release();
    const vmlinuxSymbols = findSymtab(vmlinux)?.symbols ?? [];
    const orig = compiledUnit(2);
    const input = { object: orig, sourcePath: 'unit.c', module: null, vmlinuxSymbols, exports: new Map() };
    // both units are unit.c with the same locals: the FILE blocks tie
    expect(() => kernelResolver(input)({ name: 'helper', local: true })).toThrow(/2 symbols of that name/);
    const r = await runPre({ object: 'unit2.o', orig, patched: orig, diff: replacing(orig, ['helper']), target: vmlinuxTarget() });
    const resolve = kernelResolver({ ...input, bound: r.bound });
    expect(resolve({ name: 'helper', local: true })).toEqual({ kind: 'klp', object: 'vmlinux', name: 'helper', sympos: 2 });
    expect(resolve({ name: 'count', local: true })).toEqual({ kind: 'klp', object: 'vmlinux', name: 'count', sympos: 2 });
  });
});

describe('the places the kernel rewrites, for apply\'s check', () => {
  it('an ftrace call (5 bytes) and an alternative over its full length (two instructions, 6 bytes)', () => {
    const file = compiledSites();
    const idx = buildIndex(file);
    const fn = idx.findSymbolsByName('rewritten')[0];
    const sec = fn?.section;
    if (!fn || !sec) throw new Error('no rewritten()');
    const code = sec.data.subarray(Number(fn.value), Number(fn.value) + fn.size);
    const sites = rewrittenSites(file, idx, fn, code);
    expect(sites[0]).toEqual([0, 5, 'ftrace call']);
    const alt = sites.find((x) => x[2] === 'alternative');
    expect(alt?.[1]).toBe(6);
    // mfence; lfence where the alternative starts
    expect([...code.subarray(alt?.[0], (alt?.[0] ?? 0) + 6)]).toEqual([0x0f, 0xae, 0xf0, 0x0f, 0xae, 0xe8]);
  });

  it('a linked vmlinux\'s own tables (objtool at the final link: 6.12) name return thunks and call sites by 32-bit offsets from each entry', () => {
    const start = 0xffffffff81000100n;
    // endbr64; call (depth accounting site); jmp __x86_return_thunk
    const code = Uint8Array.from([0xf3, 0x0f, 0x1e, 0xfa, 0xe8, 1, 2, 3, 4, 0xe9, 5, 6, 7, 8]);
    const table = new Uint8Array(12);
    const view = new DataView(table.buffer);
    const addr = 0xffffffff82000000n;
    // entries: the jmp, a place in another function, the call
    view.setInt32(0, Number(start + 9n - addr), true);
    view.setInt32(4, Number(start + 0x1000n - (addr + 4n)), true);
    view.setInt32(8, Number(start + 4n - (addr + 8n)), true);
    expect(linkedTableSites('.return_sites', addr, table, start, code)).toEqual([
      [9, 5, 'return thunk'],
      [4, 5, 'return thunk'],
    ]);
    expect(linkedTableSites('.unknown', addr, table, start, code)).toEqual([]);
  });
});

