import { readdirSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../../src/diff/index.js';
import type { DataDiff, DiffResult, FunctionDiff, RefusalCode, Status, Verdict } from '../../../src/diff/types.js';
import { STT_OBJECT, STT_SECTION } from '../../../src/elf/constants.js';
import { findSymtab } from '../../../src/elf/edit.js';
import type { ElfFile } from '../../../src/elf/model.js';
import { FIXTURES, pairCompiler, type Pair } from '../../helpers/diff-fixtures.js';

// Every rule of the object differ, one fixture pair each: test/fixtures/diff/<case>/{orig,patched}.c,
// compiled here with kernel-like flags. Both sides are compiled from the same path in the same
// directory (as kbuild compiles a file twice), so __FILE__ and the FILE symbol agree.

const { compilePair, work } = pairCompiler('rb-diff-cases-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

type FnExpect = Status | (Partial<FunctionDiff> & { status: Status });
type DataExpect = Status | (Partial<DataDiff> & { status?: Status });

interface Case {
  name: string;
  /** The rule the case proves. */
  rule: string;
  /** Fixture directory when it is not `name` (one pair read two ways). */
  dir?: string;
  cflags?: string[];
  module?: boolean;
  verdict: Verdict;
  /** Every function whose status is not `same` must be listed; listed ones may also be `same`. */
  functions: Record<string, FnExpect>;
  /** Data to check; unlisted data that is not special must be `same`. */
  data?: Record<string, DataExpect>;
  refusals?: { code: RefusalCode; symbol: string | RegExp }[];
  /** Refusals that may come on top of the expected ones (both rules apply). */
  alsoAllowed?: RefusalCode[];
  /** Functions the case's own check looks at (a name both sides use for different things). */
  checkedElsewhere?: string[];
  check?: (r: DiffResult, pair: Pair) => void;
}

/** Local data symbols a function refers to (through its relocations, section symbols resolved). */
function dataUsedBy(file: ElfFile, fn: string): string[] {
  const symbols = findSymtab(file)?.symbols ?? [];
  const f = symbols.find((s) => s.name === fn);
  const rela = file.sections.find((s) => s.relas && s.base === f?.section);
  const names = new Set<string>();
  for (const r of rela?.relas ?? []) {
    const target = r.symbol.type === STT_SECTION ? symbols.find((s) => s.type === STT_OBJECT && s.section === r.symbol.section) : r.symbol;
    if (target?.type === STT_OBJECT) names.add(target.name);
  }
  return [...names];
}

const CASES: Case[] = [
  {
    name: 'simple-change',
    rule: 'a changed global function is patched; its caller and data are the same',
    verdict: 'patchable',
    functions: { clamp_value: { status: 'changed', include: 'patch', hasFentry: true, local: false }, double_value: 'same' },
    data: { limit: 'same' },
  },
  {
    name: 'inlined-helper',
    rule: 'a static helper inlined into its callers changes every caller',
    verdict: 'patchable',
    functions: { scale_first: { status: 'changed', include: 'patch' }, scale_second: { status: 'changed', include: 'patch' }, unrelated: 'same' },
  },
  {
    name: 'local-function',
    rule: 'a changed out-of-line static function is patched itself; callers that only call it are the same',
    verdict: 'patchable',
    functions: { checksum: { status: 'changed', include: 'patch', local: true, hasFentry: true }, checksum_block: 'same', checksum_header: 'same' },
  },
  {
    name: 'new-function',
    rule: 'a new function is carried along; its caller is changed',
    verdict: 'patchable',
    functions: { frontend_validate: { status: 'new', include: 'carry' }, frontend_write: { status: 'changed', include: 'patch' }, frontend_flush: 'same' },
  },
  {
    name: 'callbacks',
    rule: 'functions registered as callbacks (.rebootless.callback.KIND) are carried and named with their kind',
    verdict: 'patchable',
    functions: { guarded_read: { status: 'changed', include: 'patch' }, raise_guard: { status: 'new', include: 'carry' }, restore_guard: { status: 'new', include: 'carry' } },
    data: { saved_level: 'new' },
    check: (r) =>
      expect(r.callbacks).toEqual([
        { kind: 'post_patch', function: 'raise_guard' },
        { kind: 'pre_unpatch', function: 'restore_guard' },
      ]),
  },
  {
    name: 'states',
    rule: 'the states a patch declares (.rebootless.state: u64 id, u32 version) are listed, and are not data of the kernel',
    verdict: 'patchable',
    functions: { guarded_read: { status: 'changed', include: 'patch' } },
    check: (r) =>
      expect(r.states).toEqual([
        { id: '42', version: 1 },
        { id: String(0x5eed), version: 3 },
      ]),
  },
  {
    name: 'callback-twice',
    rule: 'two callbacks of one kind in one object are refused',
    verdict: 'unpatchable',
    functions: { guarded_read: { status: 'changed', include: 'patch' }, raise_guard: { status: 'new', include: 'carry' }, restore_guard: { status: 'new', include: 'carry' } },
    data: { saved_level: 'new' },
    refusals: [{ code: 'CALLBACK_TWICE', symbol: /raise_guard, restore_guard|restore_guard, raise_guard/ }],
  },
  {
    name: 'removed-call',
    rule: 'a function that no longer calls others is changed; a static function nobody calls any more is removed',
    verdict: 'patchable',
    functions: { handle_event: { status: 'changed', include: 'patch' }, trace_event: 'removed', handle_other: 'same' },
  },
  {
    name: 'constprop-renumbered',
    rule: '.constprop.N clones are matched by what they are, not by their number',
    cflags: ['-fipa-cp-clone'],
    verdict: 'patchable',
    // work.constprop.0 is both a removed orig clone (mode 1) and the patched name of the mode 2 clone: checked below
    functions: { work: 'new', first: 'changed', third: 'changed', second: 'same' },
    checkedElsewhere: ['work.constprop.0'],
    check: (r) => {
      const named = r.functions.filter((f) => f.name === 'work.constprop.0');
      expect(named.map((f) => f.status).sort()).toEqual(['removed', 'same']);
      expect(named.find((f) => f.status === 'same')?.twin).toBe('work.constprop.1');
      expect(r.functions.find((f) => f.name === 'work.constprop.1' || f.twin === 'work.constprop.0')).toBeUndefined();
    },
  },
  {
    name: 'isra-clone',
    rule: 'an .isra clone whose body changed is patched; its callers are the same',
    verdict: 'patchable',
    functions: { 'req_weight.isra.0': { status: 'changed', include: 'patch', local: true }, req_total: 'same', req_first: 'same' },
  },
  {
    name: 'part-clone',
    rule: 'a changed .part child marks its parent changed',
    verdict: 'patchable',
    functions: {
      'lookup_name.part.0': { status: 'changed' },
      lookup_name: { status: 'changed', include: 'patch', because: expect.any(String) as string },
      open_one: 'same',
      open_two: 'same',
    },
    check: (r) => expect(r.functions.find((f) => f.name === 'lookup_name')?.firstDifference).toBeUndefined(),
  },
  {
    name: 'cold-part',
    rule: 'a changed .cold child marks its parent changed (the .cold piece needs no ftrace entry of its own)',
    verdict: 'patchable',
    functions: {
      'checked_div.cold': { status: 'changed', hasFentry: false },
      checked_div: { status: 'changed', include: 'patch', because: expect.any(String) as string },
      checked_mod: 'same',
    },
  },
  {
    name: 'static-local-kept',
    rule: 'static locals are matched through the functions that use them, whatever their numbers',
    verdict: 'patchable',
    functions: { next_id: { status: 'changed', include: 'patch' }, next_ticket: 'same', next_serial: 'new' },
    data: { 'calls.0': 'new' },
    check: (r, { orig, patched }) => {
      for (const fn of ['next_id', 'next_ticket']) {
        const [o] = dataUsedBy(orig, fn);
        const [p] = dataUsedBy(patched, fn);
        expect(o && p && o !== p, `${fn} uses a renumbered counter`).toBe(true);
        const d = r.data.filter((x) => x.name === p && x.status !== 'removed');
        expect(d, fn).toEqual([expect.objectContaining({ status: 'same', twin: o })]);
      }
      const [serial] = dataUsedBy(patched, 'next_serial');
      expect(r.data.filter((x) => x.name === serial && x.status !== 'removed')).toEqual([expect.objectContaining({ status: 'new' })]);
    },
  },
  {
    name: 'static-local-renumbered',
    rule: 'a static local renamed because another function gained one of the same name keeps its original as twin',
    verdict: 'patchable',
    functions: { second_name: { status: 'changed', include: 'patch' }, first_name: 'same', third_name: 'new' },
    // gcc numbers from the last function up: the new buffer is buf.0, the others move up by one
    data: { 'buf.0': 'new', 'buf.1': { status: 'same', twin: 'buf.0' }, 'buf.2': { status: 'same', twin: 'buf.1' } },
    check: (r, { orig, patched }) => {
      expect(dataUsedBy(orig, 'second_name')).toEqual(['buf.0']);
      expect(dataUsedBy(patched, 'second_name')).toEqual(['buf.1']);
      expect(dataUsedBy(orig, 'first_name')).toEqual(['buf.1']);
    },
  },
  {
    name: 'pcrel-data',
    rule: 'statics read through section symbols with addends other than -4 (cmpq $0 → -5, movq $imm → -8) are found and compared as themselves',
    verdict: 'patchable',
    functions: { taint_word: { status: 'changed', include: 'patch' }, add_taint_bit: 'same', last_taint_report: 'same' },
    data: { tainted_mask: 'same', last_report: 'same' },
  },
  {
    name: 'ops-table-changed',
    rule: 'a changed const table that data points at (an ops table registered long ago) is refused, naming the field, never "no change"',
    verdict: 'unpatchable',
    functions: { fib_validate: 'new' },
    data: { fib_ops: 'changed' },
    refusals: [{ code: 'DATA_CHANGED', symbol: 'fib_ops' }],
    check: (r) => {
      const x = r.refusals.find((y) => y.symbol === 'fib_ops');
      expect(x?.reason).toMatch(/\+0x8: now fib_validate \(was no pointer\).*fib_type points at it/);
      expect(x?.hint).toMatch(/dispatches through the table/);
    },
  },
  {
    name: 'notrace-address-taken',
    rule: 'a changed notrace static whose address is taken cannot be replaced by patching its callers',
    verdict: 'unpatchable',
    functions: { quiet_read: { status: 'changed', include: 'carry' }, read_twice: 'same' },
    refusals: [{ code: 'NO_FENTRY', symbol: 'quiet_read' }],
    check: (r) => expect(r.refusals[0]?.reason).toMatch(/address is taken \(read_ops\)/),
  },
  {
    name: 'side-table-only',
    rule: 'a change that lives only in side-table entries (a static branch key, WARN flags) changes the function, with the table named',
    verdict: 'patchable',
    functions: {
      pick_path: { status: 'changed', include: 'patch', because: 'its __jump_table entries changed' },
      checked_len: { status: 'changed', include: 'patch', because: 'its __bug_table entries changed' },
    },
  },
  {
    name: 'function-alias',
    rule: 'one body under two names is one entry, a global name first, the other its alias',
    verdict: 'patchable',
    functions: { __ia32_sys_answer: { status: 'changed', include: 'patch', aliases: ['__x64_sys_answer'] } },
  },
  {
    name: 'static-local-added',
    rule: 'a static local that is new in a changed function is new data, carried along',
    verdict: 'patchable',
    functions: { maybe_flush: { status: 'changed', include: 'patch' } },
    data: { 'skipped.0': { status: 'new' } },
  },
  {
    name: 'special-statics',
    rule: '__warned, __already_done, _rs, __key, __func__ and CSWTCH are never correlated, only carried; their users compare the same',
    verdict: 'patchable',
    functions: { check_state: 'changed', say_once: 'same', say_limited: 'same', init_lock: 'same', whoami: 'same', weight_of: 'same' },
    check: (r, { patched }) => {
      const statics = (findSymtab(patched)?.symbols ?? []).filter((s) => s.type === STT_OBJECT).map((s) => s.name);
      expect(statics.sort()).toEqual(['CSWTCH.9', '__already_done.4', '__func__.0', '__func__.2', '__key.1', '__warned.5', '__warned.6', '_rs.3']);
      for (const name of statics) {
        const d = r.data.filter((x) => x.name === name && x.status !== 'removed');
        expect(d, name).toEqual([expect.objectContaining({ special: true })]);
        expect(d[0]?.twin, name).toBeUndefined();
      }
    },
  },
  {
    name: 'line-shift',
    rule: 'a change that only shifts __LINE__ in a line argument (might_sleep(), ___might_sleep(), btrfs\'s abort helper, the argument after __FILE__ or __func__) is no change',
    verdict: 'no-change',
    functions: { read_block: 'same', read_old: 'same', read_or_abort: 'same', read_asserted: 'same', read_traced: 'same' },
  },
  {
    name: 'line-in-string',
    rule: 'a string that embeds its place (`__FILE__ ":" __stringify(__LINE__)`) and only moved is no change; a string whose words changed is a change',
    verdict: 'patchable',
    functions: { check_size: 'same', check_limit: { status: 'changed', include: 'patch' } },
  },
  {
    name: 'printk-argument',
    rule: 'a changed immediate in a printk() argument is a change: printk has no line argument',
    verdict: 'patchable',
    functions: { report_limit: { status: 'changed', include: 'patch' } },
  },
  {
    name: 'line-shift-warn',
    rule: 'a change that only shifts the lines recorded in __bug_table (WARN_ON, BUG) is no change',
    verdict: 'no-change',
    functions: { queue_len: 'same', queue_check: 'same' },
  },
  {
    name: 'comment-only',
    rule: 'a comment-only change (debug info moves, code does not) is no change',
    cflags: ['-g'],
    verdict: 'no-change',
    functions: { add_one: 'same', sub_one: 'same' },
  },
  {
    name: 'reordered',
    rule: 'functions and data that only moved, and functions whose callees only moved, are the same',
    verdict: 'no-change',
    functions: { weigh: 'same', above: 'same', below: 'same', total: 'same' },
    data: { calls_total: 'same', threshold: 'same', weights: 'same' },
  },
  {
    name: 'string-literal',
    rule: 'a function whose code is the same but whose string literal changed is changed',
    verdict: 'patchable',
    functions: { greet: { status: 'changed', include: 'patch' }, part: 'same' },
  },
  {
    name: 'merged-constant',
    rule: 'constants in mergeable sections, reached through .LCn labels, are compared by content',
    verdict: 'patchable',
    functions: { append_offset: 'same', append_mask: { status: 'changed', include: 'patch' } },
  },
  {
    name: 'dynamic-debug',
    rule: 'pr_debug() descriptors in __dyndbg (two per function, renumbered, moved) are matched; a function that only uses them is the same',
    verdict: 'patchable',
    functions: { probe_dev: 'same', scale_dev: { status: 'changed', include: 'patch' }, reset_dev: 'new' },
  },
  {
    name: 'dynamic-debug-renumbered',
    rule: 'pr_debug() descriptors renumbered both before and after the dot (__UNIQUE_ID_ddebug3.2 → __UNIQUE_ID_ddebug4.3) leave their users the same',
    verdict: 'patchable',
    functions: { check_dev: 'new', start_dev: { status: 'changed', include: 'patch' }, probe_dev: 'same', stop_dev: 'same' },
  },
  {
    name: 'dynamic-debug-verbose',
    dir: 'dynamic-debug-renumbered',
    rule: 'descriptors in __verbose (__dyndbg before Linux 5.1) are dynamic debug descriptors too: carried, never refused as changed data',
    cflags: ['-DDYNDBG_SECTION="__verbose"'],
    verdict: 'patchable',
    functions: { check_dev: 'new', start_dev: { status: 'changed', include: 'patch' }, probe_dev: 'same', stop_dev: 'same' },
  },
  {
    name: 'empty-lock-key',
    rule: 'a zero-sized static (an empty lockdep key) reached through its section symbol is named by the symbol at that offset, not by its renumbered section',
    verdict: 'patchable',
    functions: { init_first: 'same', init_second: 'changed' },
  },
  {
    name: 'empty-static-renumbered',
    rule: 'a zero-sized static local that no macro list names is paired through its users like any static, whatever its number',
    verdict: 'no-change',
    functions: { init_first: 'same', init_second: 'same', init_third: 'new' },
    data: { 'rwsem_key.0': 'new', 'rwsem_key.1': { status: 'same', twin: 'rwsem_key.0' }, 'rwsem_key.2': { status: 'same', twin: 'rwsem_key.1' } },
  },
  {
    name: 'altinstr-aux',
    rule: 'references into .altinstr_aux that only moved are no change (that code never runs once alternatives are applied)',
    verdict: 'patchable',
    functions: { pick_copy: 'changed', pick_clear: 'same', setup_features: 'same' },
  },
  {
    name: 'dynamic-debug-module',
    dir: 'dynamic-debug',
    rule: 'in a module, the pr_debug() keys of functions that did not change are no reason to refuse',
    module: true,
    verdict: 'patchable',
    functions: { probe_dev: 'same', scale_dev: 'changed', reset_dev: 'new' },
  },
  {
    name: 'new-data',
    rule: 'new data used by a changed function is carried along',
    verdict: 'patchable',
    functions: { spend: 'changed' },
    data: { overdrafts: 'new', budget: 'same' },
  },
  {
    name: 'data-initializer',
    rule: 'a changed initializer of existing data is refused (DATA_CHANGED)',
    verdict: 'unpatchable',
    functions: { retry_limit: 'same' },
    data: { retry_limits: 'changed' },
    refusals: [{ code: 'DATA_CHANGED', symbol: 'retry_limits' }],
  },
  {
    name: 'data-size',
    rule: 'a changed size of existing data is refused (DATA_CHANGED)',
    verdict: 'unpatchable',
    functions: { record: 'changed', recall: 'changed' },
    data: { history: 'changed' },
    refusals: [{ code: 'DATA_CHANGED', symbol: 'history' }],
  },
  {
    name: 'init-change',
    rule: 'a changed __init function is refused (INIT_CHANGED)',
    verdict: 'unpatchable',
    functions: { thing_init: 'changed', thing_enabled: 'same' },
    data: { thing_flags: 'same' },
    refusals: [{ code: 'INIT_CHANGED', symbol: 'thing_init' }],
  },
  {
    name: 'init-incidental',
    rule: 'init code that differs only in calls to functions the patch brings is left, with a warning',
    verdict: 'patchable',
    functions: {
      runtime_read: { status: 'changed', include: 'patch' },
      parse_value: 'removed',
      parse_value_checked: { status: 'new', include: 'carry' },
      early_setup: 'changed',
    },
    check: (r) => {
      expect(r.warnings).toContainEqual(expect.stringMatching(/^early_setup \(\.init\.text\) changed only in its references to parse_value_checked, which the patch brings/));
    },
  },
  {
    name: 'init-registers-renamed',
    rule: 'init data naming a renamed handler is refused: what it registered at boot still names the released handler, the new one would never run',
    verdict: 'unpatchable',
    functions: { handle_event: 'removed', handle_event_checked: 'new', register_all: 'same' },
    data: { early_handlers: 'changed' },
    refusals: [{ code: 'INIT_CHANGED', symbol: 'early_handlers' }],
    check: (r) => expect(r.refusals[0]?.reason).toMatch(/takes the address of handle_event_checked, new in the patch; .* would never run/),
  },
  {
    name: 'init-calls-notrace',
    rule: 'an init caller of a changed notrace function is not patched instead (it has run): left, with a warning',
    verdict: 'patchable',
    functions: { scale: { status: 'changed', include: 'carry' }, runtime_scale: { status: 'changed', include: 'patch' }, early_scale: 'same' },
    check: (r) => expect(r.warnings).toContainEqual(expect.stringMatching(/^early_scale \(\.init\.text\) calls scale, which the patch carries: it has run/)),
  },
  {
    name: 'init-reference',
    rule: 'an init function that now refers to something the patch does not bring is refused, naming it',
    verdict: 'unpatchable',
    functions: { early_setup: 'changed', parse_value: 'same', handle_event: 'same', runtime_read: 'same', register_all: 'same' },
    refusals: [{ code: 'INIT_CHANGED', symbol: 'early_setup' }],
    check: (r) => expect(r.refusals[0]?.reason).toMatch(/now refers to handle_event, which the patch does not bring/),
  },
  {
    name: 'init-registered-new',
    rule: 'a new __init function registered as an initcall is refused: it would never run, and what it sets up would be missing',
    verdict: 'unpatchable',
    functions: { note_setup: 'new', note_read: 'changed' },
    data: { __initcall_note_setup: 'new' },
    refusals: [{ code: 'INIT_CHANGED', symbol: 'note_setup' }],
    check: (r) => expect(r.refusals[0]?.reason).toMatch(/new init code registered in \.initcall7\.init: .* post-patch callback/),
  },
  {
    name: 'exit-change',
    rule: 'a changed __exit function is refused (INIT_CHANGED)',
    verdict: 'unpatchable',
    functions: { thing_exit: 'changed', thing_state: 'same' },
    refusals: [{ code: 'INIT_CHANGED', symbol: 'thing_exit' }],
    // __exit is notrace, as in the kernel: a global function without an ftrace entry changed, too
    alsoAllowed: ['NO_FENTRY'],
  },
  {
    name: 'new-export',
    rule: 'a new EXPORT_SYMBOL is refused (EXPORT_CHANGED)',
    verdict: 'unpatchable',
    functions: { compute_hash: 'same', compute_other: 'same' },
    refusals: [{ code: 'EXPORT_CHANGED', symbol: 'compute_hash' }],
  },
  {
    name: 'notrace-global',
    rule: 'a changed global function without an ftrace entry is refused (NO_FENTRY)',
    verdict: 'unpatchable',
    functions: { fast_path: { status: 'changed', hasFentry: false, local: false }, slow_path: 'changed' },
    refusals: [{ code: 'NO_FENTRY', symbol: 'fast_path' }],
  },
  {
    name: 'notrace-static',
    rule: 'a changed static notrace function is carried and its traceable callers are patched instead',
    verdict: 'patchable',
    functions: {
      mix: { status: 'changed', include: 'carry', hasFentry: false, local: true },
      mix_twice: { status: 'changed', include: 'carry', hasFentry: false, because: expect.any(String) as string },
      mix_forward: { status: 'changed', include: 'patch', hasFentry: true, because: expect.any(String) as string },
      mix_both: { status: 'changed', include: 'patch', hasFentry: true, because: expect.any(String) as string },
      no_mix: 'same',
    },
  },
  {
    name: 'jump-label',
    rule: 'a changed function with a static branch keyed in vmlinux is patchable, with its __jump_table entry',
    verdict: 'patchable',
    functions: { handle_packet: { status: 'changed', include: 'patch' }, handle_ack: 'same' },
    check: (r) => {
      expect(r.specialEntries.handle_packet).toContainEqual({ section: '__jump_table', entrySize: 16, entries: [{ offset: 0, size: 16 }] });
      expect(r.specialEntries.handle_ack).toBeUndefined();
    },
  },
  {
    name: 'jump-label-module',
    dir: 'jump-label',
    rule: 'in a module, a static key defined elsewhere (not in this object) is no reason to refuse',
    module: true,
    verdict: 'patchable',
    functions: { handle_packet: 'changed', handle_ack: 'same' },
  },
  {
    name: 'bug-ex-table',
    rule: 'a changed function with __bug_table and __ex_table entries lists exactly its own entries',
    verdict: 'patchable',
    functions: { buffer_fetch: { status: 'changed', include: 'patch' }, buffer_peek: 'same' },
    check: (r) => {
      const entries = r.specialEntries.buffer_fetch ?? [];
      expect(entries).toContainEqual({ section: '__bug_table', entrySize: 12, entries: [{ offset: 0, size: 12 }, { offset: 12, size: 12 }] });
      expect(entries).toContainEqual({ section: '__ex_table', entrySize: 12, entries: [{ offset: 0, size: 12 }] });
      expect(r.specialEntries.buffer_peek).toBeUndefined();
    },
  },
  {
    name: 'static-key-module',
    rule: 'in a module, a changed function using a static key the module defines is refused (STATIC_KEY_IN_MODULE)',
    module: true,
    verdict: 'unpatchable',
    functions: { process: 'changed' },
    data: { verbose_key: 'same' },
    refusals: [{ code: 'STATIC_KEY_IN_MODULE', symbol: 'process' }],
  },
  {
    name: 'static-key-vmlinux',
    dir: 'static-key-module',
    rule: 'the same static key in vmlinux (no --module) is patchable',
    verdict: 'patchable',
    functions: { process: 'changed' },
    data: { verbose_key: 'same' },
  },
  {
    name: 'static-call-module',
    rule: 'in a module, a changed function with a static call keyed in the module is refused (STATIC_CALL_IN_MODULE)',
    module: true,
    verdict: 'unpatchable',
    functions: { filter: 'changed' },
    refusals: [{ code: 'STATIC_CALL_IN_MODULE', symbol: 'filter' }],
  },
  {
    name: 'static-call-vmlinux',
    dir: 'static-call-module',
    rule: 'the same static call in vmlinux (no --module) is patchable',
    verdict: 'patchable',
    functions: { filter: 'changed' },
  },
  {
    name: 'comdat-changed',
    rule: 'a changed member of a COMDAT group is refused (COMDAT_CHANGED)',
    verdict: 'unpatchable',
    functions: { shared_helper: 'changed', use_helper: 'same' },
    refusals: [{ code: 'COMDAT_CHANGED', symbol: /shared_helper/ }],
  },
  {
    name: 'unknown-section',
    rule: 'a changed section the differ has no rule for is refused (UNKNOWN_SECTION_CHANGED)',
    verdict: 'unpatchable',
    functions: { policy_user: 'same' },
    refusals: [{ code: 'UNKNOWN_SECTION_CHANGED', symbol: /\.rebootless\.policy/ }],
  },
  {
    name: 'unique-id',
    rule: '__UNIQUE_ID_* names are matched whatever their counter',
    verdict: 'no-change',
    functions: { tag_length: 'same', tag_width: 'same' },
    data: {
      '__UNIQUE_ID___addressable_tag_length2': { status: 'same', twin: '__UNIQUE_ID___addressable_tag_length1' },
      '__UNIQUE_ID_hit1.1': { status: 'same', twin: '__UNIQUE_ID_hit0.1' },
      '__UNIQUE_ID_hit3.0': { status: 'same', twin: '__UNIQUE_ID_hit2.0' },
    },
  },
];

/** The one entry with this name (a patched name, or the orig name of a removed one). */
function one<T extends { name: string; status: Status }>(list: T[], name: string, what: string): T {
  const found = list.filter((x) => x.name === name);
  expect(found.length, `${what} ${name}: ${JSON.stringify(found)}`).toBe(1);
  return found[0] as T;
}

function expectResult(c: Case, r: DiffResult): void {
  const summary = JSON.stringify({ verdict: r.verdict, refusals: r.refusals, functions: r.functions.filter((f) => f.status !== 'same') }, null, 1);
  expect(r.verdict, summary).toBe(c.verdict);
  // refusals: exactly the expected codes, each naming the expected symbol
  const want = (c.refusals ?? []).map((x) => x.code).sort();
  expect(r.refusals.map((x) => x.code).filter((x) => !c.alsoAllowed?.includes(x) || want.includes(x)).sort(), summary).toEqual(want);
  for (const x of c.refusals ?? []) {
    const got = r.refusals.filter((y) => y.code === x.code);
    expect(got.some((y) => (typeof x.symbol === 'string' ? y.symbol === x.symbol : x.symbol.test(y.symbol) || x.symbol.test(y.section ?? ''))), `${x.code}: ${JSON.stringify(got)}`).toBe(true);
    for (const y of got) expect(y.reason.length * y.hint.length, 'a refusal says why and what to do').toBeGreaterThan(0);
  }
  // functions: listed ones as expected, every other one the same
  for (const [name, e] of Object.entries(c.functions)) {
    const fd = one(r.functions, name, 'function');
    expect(fd, name).toMatchObject(typeof e === 'string' ? { status: e } : e);
  }
  const unlisted = r.functions.filter((f) => !(f.name in c.functions) && !c.checkedElsewhere?.includes(f.name) && f.status !== 'same');
  expect(unlisted, 'functions reported different but not expected to be').toEqual([]);
  // data: listed ones as expected; the rest the same unless special
  for (const [name, e] of Object.entries(c.data ?? {})) {
    const d = one(r.data, name, 'data');
    expect(d, name).toMatchObject(typeof e === 'string' ? { status: e } : e);
  }
  const otherData = r.data.filter((d) => !(d.name in (c.data ?? {})) && !d.special && d.status !== 'same');
  expect(otherData, 'data reported different but not expected to be').toEqual([]);
}

/** What holds for every result, whatever the case. */
function expectConsistent(r: DiffResult, patchedFile: string): void {
  expect(r.file).toBe(patchedFile);
  expect(r.verdict === 'unpatchable').toBe(r.refusals.length > 0);
  expect(r.verdict === 'patchable').toBe(r.refusals.length === 0 && r.functions.some((f) => f.include === 'patch'));
  for (const f of r.functions) {
    const where = `${f.name} (${f.status})`;
    if (f.status === 'same' || f.status === 'removed') expect(f.include, where).toBeUndefined();
    // new init and exit code never goes into a patch module
    if (f.status === 'new') expect(f.include, where).toBe(/^\.(init|exit)\./.test(f.section) ? undefined : 'carry');
    if (f.status === 'changed') {
      // a refused function is in no patch module; every other changed one is patched or carried
      // changed and neither refused nor left as init code whose references alone changed: included
      const leftInit = r.warnings.some((w) => w.startsWith(`${f.name} (${f.section}) changed only in its references`));
      if (!r.refusals.some((x) => x.symbol === f.name) && !leftInit) expect(['patch', 'carry'], where).toContain(f.include);
      if (leftInit) expect(f.include, `${where} is init code left as it is`).toBeUndefined();
      expect(f.firstDifference !== undefined || f.because !== undefined, `${where} says why it changed`).toBe(true);
    }
    if (f.include === 'patch') expect(f.hasFentry, `${where} is redirected, so it has an ftrace entry`).toBe(true);
    if (f.status !== 'changed') expect(f.firstDifference, where).toBeUndefined();
  }
  const included = new Set(r.functions.filter((f) => f.include && f.status !== 'removed').map((f) => f.name));
  for (const [fn, groups] of Object.entries(r.specialEntries)) {
    expect(included.has(fn), `special entries only for included functions: ${fn}`).toBe(true);
    for (const g of groups) {
      expect(g.entrySize, `${fn} ${g.section}`).toBeGreaterThan(0);
      for (const e of g.entries) {
        expect(e.size, `${fn} ${g.section}`).toBe(g.entrySize);
        expect(e.offset % g.entrySize, `${fn} ${g.section} entry at ${e.offset}`).toBe(0);
      }
    }
  }
}

describe('diffObjects on the fixture pairs', () => {
  it('has a case for every fixture directory, and at least 20', () => {
    const dirs = readdirSync(FIXTURES, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(dirs).toEqual([...new Set(CASES.map((c) => c.dir ?? c.name))].sort());
    expect(dirs.length).toBeGreaterThanOrEqual(20);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const pair = compilePair(c.dir ?? c.name, c.cflags);
    const r = diffObjects(pair.orig, pair.patched, c.module ? { module: true } : {});
    expectConsistent(r, pair.patched.file);
    expectResult(c, r);
    c.check?.(r, pair);
  });

  it.each(CASES.filter((c) => !c.dir).map((c) => [c.name, c] as const))('%s: each object against itself is no change', (_name, c) => {
    const { orig, patched } = compilePair(c.name, c.cflags);
    for (const file of [orig, patched]) {
      const r = diffObjects(file, file, c.module ? { module: true } : {});
      expect(r.verdict).toBe('no-change');
      expect(r.refusals).toEqual([]);
      expect(r.functions.filter((f) => f.status !== 'same')).toEqual([]);
      expect(r.data.filter((d) => d.status !== 'same' && !d.special)).toEqual([]);
    }
  });
});
