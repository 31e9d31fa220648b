import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHF_ALLOC, SHF_WRITE } from '../../src/elf/constants.js';
import { findSymtab } from '../../src/elf/edit.js';
import { modinfoOf } from '../../src/elf/modinfo.js';
import { readElfFile } from '../../src/elf/files.js';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { buildFixture, patchBuilder, tryModule, type Tried } from '../helpers/build-and-try.js';
import { defaultWorkspace } from '../helpers/workspace.js';

// Can the patched code be trusted with the running kernel's state? Each case
// builds a patch of the real release and proves it in the VM: the patched
// behaviour must use the kernel's existing data (not a private zero-filled
// copy, not another function's variable), and the original behaviour must come
// back after the revert. Plus one refusal: a changed operations table.

let ws: KernelWorkspace;
const { out, build } = patchBuilder('rb-trust-', () => ws.release);
const fixture = buildFixture;

beforeAll(async () => {
  ws = await defaultWorkspace();
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const tryIt = (ko: string, check: string, setup?: string, modules: string[] = []): Promise<Tried> =>
  tryModule(ws.release, ko, check, [...(setup ? ['--setup', setup] : []), ...modules.flatMap((m) => ['--module', m])]);

/**
 * What print_tainted() returns, read from the "CPU: … Comm: sh <print_tainted()> <release> …"
 * line of a stack dump. SysRq-l dumps the stack of the CPU that writes the trigger
 * (dump_stack_print_info calls print_tainted). The dump has a "Call Trace:", which the
 * VM harness counts as kernel trouble on the console: the console log level is
 * lowered around it so the dump reaches only the kernel log, then restored.
 */
const PRINT_TAINTED = [
  'lv=$(cut -f1 /proc/sys/kernel/printk)',
  'dmesg -n 1',
  'dmesg -c >/dev/null',
  'echo l > /proc/sysrq-trigger',
  'sleep 1',
  'dmesg -n "$lv"',
  `dmesg | sed -n "s/.* Comm: sh \\(.*\\) $(uname -r) .*/\\1/p" | head -n 1`,
].join('; ');

/** Two writes of 4 to drop_caches (drop nothing, silence later writes); what they logged. */
const DROP_CACHES = 'dmesg -c >/dev/null; echo 4 > /proc/sys/vm/drop_caches; echo 4 > /proc/sys/vm/drop_caches; dmesg | sed -n "s/.*drop_caches: //p"';

describe('patched code uses the running kernel’s state', () => {
  // kernel/panic.c print_tainted reads tainted_mask through `cmpq $0x0,tainted_mask(%rip)`:
  // a PC32 relocation against .bss.tainted_mask with addend -5 (offset 0, one immediate
  // byte after the field). Reading the addend as an offset misses the variable and
  // carries the section: the patch then reads a zero-filled private copy ("Not tainted").
  it('existing kernel data is referenced, not copied (tainted_mask behind a -5 addend)', async () => {
    const b = await build(fixture('tainted-mask.patch'), 'tainted');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/patched\s+print_tainted/);
    expect.soft(b.stdout + b.stderr).not.toMatch(/carried the section/);
    // setup taints the kernel by hand (TAINT_USER, 'U'); loading the unsigned patch adds O, E and K
    const t = await tryIt(b.ko, PRINT_TAINTED, 'echo 64 > /proc/sys/kernel/tainted');
    expect(t.report.trouble).toEqual([]);
    expect(t.step('check-before')).toMatch(/^Tainted: G +U$/);
    expect(t.step('check-after')).toMatch(/^Tainted: G +U +OE K$/);
    // the patched text with the real flags of the moment
    expect(t.step('check-patched')).toBe(t.step('check-after').replace('Tainted:', 'TAINTED:'));
    expect(t.code).toBe(0);
  });

  // fs/drop_caches.c drop_caches_sysctl_handler keeps a once-flag `static int stfu`
  // (vmlinux: stfu.0): after a write with bit 4 it stops logging. The patch adds another
  // `static int stfu` (in quiet_writes, inlined into the handler), so gcc names the new
  // one stfu.0 and renames the handler's to stfu.1. The running kernel's flag is still
  // stfu.0: the patched handler must use it (already set: it answers quietly), while
  // quiet_writes's counter is new (starts at 0). READ_ONCE keeps every reference to the
  // handler's flag a plain load/store (addend -4), so only the renumbering is tested here.
  it('a renumbered static local keeps its state (drop_caches once-flag)', async () => {
    const b = await build(fixture('static-renumber.patch'), 'renumber');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/patched\s+drop_caches_sysctl_handler/);
    const t = await tryIt(b.ko, DROP_CACHES);
    expect(t.report.trouble).toEqual([]);
    // the first write logs and sets the flag; the second is silent
    expect(t.step('check-before')).toBe('4');
    // the flag set before the patch silences the patched handler: only the quiet answers, counted from 1
    expect(t.step('check-patched')).toBe('quiet write 1 (live patched)\nquiet write 2 (live patched)');
    // and the original handler, still silenced, is back
    expect(t.step('check-after')).toBe('');
    expect(t.code).toBe(0);
  });
});

describe('changed data is refused', () => {
  // The shape of the stable fix to net/netfilter/nft_fib_netdev.c (a new
  // nft_fib_netdev_validate assigned to nft_fib_netdev_ops.validate); the release
  // already has that fix, so the same change is made to nft_dup_netdev.c. The new
  // function is reachable only through the const table, which the running module keeps
  // using: the patch would change nothing, and must say why.
  it('a new function assigned into an existing const ops table is DATA_CHANGED (exit 2)', async () => {
    const b = await build(fixture('ops-validate.patch'), 'ops_validate');
    expect(b.code, b.stderr).toBe(2);
    expect(b.stderr).toMatch(/DATA_CHANGED/);
    expect(b.stderr).toMatch(/nft_dup_netdev_ops/);
    expect(existsSync(b.ko)).toBe(false);
  });
});

/** Names of the module's `.klp.sym` symbols, its writable data sections with contents, and a `.modinfo` value. */
async function moduleFacts(ko: string, key: string): Promise<{ klpSyms: string[]; writable: string[]; modinfo: string[] }> {
  const file = await readElfFile(ko);
  const klpSyms = (findSymtab(file)?.symbols ?? []).map((s) => s.name).filter((n) => n.startsWith('.klp.sym.'));
  // kbuild's own .data (the klp tables) and .bss stay; any section named for a variable would be a copy
  const writable = file.sections.filter((s) => (s.flags & SHF_WRITE) !== 0n && (s.flags & SHF_ALLOC) !== 0n && /^\.(data|bss)\./.test(s.name)).map((s) => s.name);
  return { klpSyms, writable, modinfo: (modinfoOf(file) ?? []).filter((e) => e.key === key).map((e) => e.value) };
}

/** What the livepatch core shows of a patch's functions while it is live: `<object>/<function>,<sympos>` (0 shows as 1). */
const PATCHED_FUNCTIONS = "ls -d /sys/kernel/livepatch/*/*/*,* 2>/dev/null | sed 's#.*/livepatch/[^/]*/##' | sort";

describe('the shapes of real stable fixes build, verify and load', () => {
  // These fixes touch code no device in the VM reaches (IMA appraisal, a Steam controller,
  // CXL regions): the checks are what the kernel accepted and resolved while the patch was
  // live, plus what the module refers to.

  // security/integrity/ima/ima_appraise.c: the changed code is gcc's clone
  // ima_reset_appraise_flags.part.0; the generated module source needs C identifiers.
  it('a patched .part clone (ima_reset_appraise_flags.part.0)', async () => {
    const b = await build(fixture('ima-part-clone.patch'), 'ima_part');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/patched\s+ima_reset_appraise_flags\.part\.0/);
    const t = await tryIt(b.ko, PATCHED_FUNCTIONS);
    expect(t.report.trouble).toEqual([]);
    expect(t.step('check-before')).toBe('');
    expect(t.step('check-patched')).toMatch(/^vmlinux\/ima_reset_appraise_flags\.part\.0,\d+$/m);
    expect(t.step('check-after')).toBe('');
    expect(t.code).toBe(0);
  });

  // drivers/hid/hid-steam.c (module hid_steam): steam_input_open reads the module parameter
  // lizard_mode through `cmpb $0x0,lizard_mode(%rip)`; the patch must use the module's variable.
  it('a module parameter read behind a -5 addend is the module’s own (hid_steam lizard_mode)', async () => {
    const b = await build(fixture('steam-module-param.patch'), 'steam');
    expect(b.code, b.stderr).toBe(0);
    const facts = await moduleFacts(b.ko, 'import_ns');
    expect(facts.klpSyms).toContain('.klp.sym.hid_steam.lizard_mode,0');
    expect(facts.writable).toEqual([]);
    const t = await tryIt(b.ko, `${PATCHED_FUNCTIONS}; cat /sys/module/hid_steam/parameters/lizard_mode`, 'modprobe hid_steam', ['hid_steam']);
    expect(t.report.trouble).toEqual([]);
    expect(t.step('check-before')).toBe('Y');
    expect(t.step('check-patched')).toBe('hid_steam/steam_input_open,1\nY');
    expect(t.step('check-after')).toBe('Y');
    expect(t.code).toBe(0);
  });

  // drivers/cxl/core/region.c: the patched code calls to_cxl_port, exported in namespace CXL.
  it('an export in a symbol namespace is imported (to_cxl_port, namespace CXL)', async () => {
    const b = await build(fixture('cxl-namespace.patch'), 'cxl_ns');
    expect(b.code, b.stderr).toBe(0);
    expect((await moduleFacts(b.ko, 'import_ns')).modinfo).toEqual(['CXL']);
    const t = await tryIt(b.ko, PATCHED_FUNCTIONS);
    expect(t.report.trouble).toEqual([]);
    expect(t.step('check-before')).toBe('');
    expect(t.step('check-patched')).toMatch(/^vmlinux\/store_targetN,\d+$/m);
    expect(t.step('check-after')).toBe('');
    expect(t.code).toBe(0);
  });
});
