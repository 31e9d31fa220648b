import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import type { RuntimeEvent } from '../../../src/runtime/events.js';
import { readRecord } from '../../../src/runtime/records.js';
import { hostStatus } from '../../../src/runtime/status.js';
import { readPatch } from '../../../src/runtime/sysfs.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel, START_MS } from '../../helpers/fake-kernel.js';
import { RELEASE, livepatchModule } from '../../helpers/livepatch-fixtures.js';

const at = (ms: number): string => new Date(START_MS + ms).toISOString();

describe('applyPatch', () => {
  it('loads the module, follows the transition to its end and records the patch', async () => {
    const k = new FakeKernel({ modules: ['ext4'] });
    const cat = k.addTask({ comm: 'cat', stack: ['vfs_read+0x9b/0x1a0'] });
    const events: RuntimeEvent[] = [];
    const file = livepatchModule();
    const r = await applyPatch(k.host, file, { timeoutMs: 10_000, wait: true, force: false, onEvent: (e) => events.push(e) });
    expect([r.name, r.outcome, r.transitionMs, r.blockers, r.release]).toEqual(['livepatch_a', 'applied', 250, [], RELEASE]);
    expect(k.calls).toEqual([`insmod ${file}`]);
    expect(k.patchState(cat)).toBe(-1);
    // preflight's note, then the running-code check's: this test module carries no release code to compare with
    expect(events.map((e) => e.kind)).toEqual(['note', 'note', 'loading', 'transition']);
    expect(events[1]).toMatchObject({ text: expect.stringMatching(/carries no release code/) });
    expect(events[3]).toMatchObject({ snapshot: { patch: 'livepatch_a', target: 'patched', elapsedMs: 0, pending: 3 } });
    expect(await readPatch(k.host, 'livepatch_a')).toMatchObject({ enabled: true, transition: false });
    expect(await readRecord(k.host, 'livepatch_a')).toEqual({
      name: 'livepatch_a',
      file,
      release: RELEASE,
      description: 'pipe_read and friends, fixed',
      cves: ['CVE-2026-0001', 'CVE-2026-0002'],
      replace: true,
      objects: r.module.objects,
      loadedAt: at(0),
      transitionStartedAt: at(0),
      transitionEndedAt: at(250),
      forced: false,
      liveCode: 'unavailable',
    });
  });

  it('shows the applied patch in the host status', async () => {
    const k = new FakeKernel({ modules: ['ext4'] });
    const file = livepatchModule();
    await applyPatch(k.host, file, { timeoutMs: 10_000, wait: true, force: false });
    const s = await hostStatus(k.host);
    expect(JSON.parse(JSON.stringify(s))).toEqual({
      schema: 'rebootless.status/1',
      release: RELEASE,
      livepatch: true,
      taint: {
        mask: 45056,
        flags: [
          { letter: 'O', meaning: 'externally built (out of tree) module loaded' },
          { letter: 'E', meaning: 'unsigned module loaded' },
          { letter: 'K', meaning: 'kernel has been live patched' },
        ],
      },
      patches: [
        {
          name: 'livepatch_a',
          state: 'enabled',
          enabled: true,
          transition: { running: false, since: null, seconds: null, pending: 0, blockers: [] },
          objects: [
            { name: 'ext4', patched: true, functions: [{ name: 'ext4_file_write_iter', sympos: 1 }] },
            {
              name: 'vmlinux',
              patched: true,
              functions: [
                { name: 'cmdline_proc_show', sympos: 2 },
                { name: 'meminfo_proc_show', sympos: 1 },
                { name: 'pipe_read', sympos: 1 },
              ],
            },
          ],
          description: 'pipe_read and friends, fixed',
          cves: ['CVE-2026-0001', 'CVE-2026-0002'],
          replace: true,
          forced: false,
          liveCode: 'unavailable',
          loadedAt: at(0),
          appliedAt: at(250),
          file,
          moduleTaint: 'OEK',
          installed: false,
        },
      ],
      installed: [],
    });
  });

  it('retries insmod while the livepatch core says EBUSY, then gives up at the deadline', async () => {
    const k = new FakeKernel();
    k.busyInsmods(2);
    const events: RuntimeEvent[] = [];
    const r = await applyPatch(k.host, livepatchModule(), { timeoutMs: 10_000, wait: true, force: false, onEvent: (e) => events.push(e) });
    expect(r.outcome).toBe('applied');
    expect(events.filter((e) => e.kind === 'retry')).toEqual([
      { kind: 'retry', what: 'load', reason: 'Device or resource busy' },
      { kind: 'retry', what: 'load', reason: 'Device or resource busy' },
    ]);
    expect(k.calls.filter((c) => c.startsWith('insmod'))).toHaveLength(3);

    const busy = new FakeKernel();
    busy.busyInsmods(1000);
    const e = await rejection(applyPatch(busy.host, livepatchModule(), { timeoutMs: 1000, wait: true, force: false }));
    expect([e.code, (e.data as { reason: string }).reason]).toEqual(['MODULE_LOAD_FAILED', 'Device or resource busy']);
    // 100 + 200 + 400 + 800 ms of backoff reach the 1 s deadline after five attempts
    expect(busy.calls).toHaveLength(5);
    expect(await readRecord(busy.host, 'livepatch_a')).toBeUndefined();
  });
});

describe('applyPatch without kmod', () => {
  it('says which package brings insmod', async () => {
    const k = new FakeKernel();
    const host = { ...k.host, exec: () => Promise.resolve({ exitCode: 127, output: 'insmod: not found' }) };
    const e = await rejection(applyPatch(host, livepatchModule(), { timeoutMs: 1000, wait: true, force: false }));
    expect([e.code, e.data]).toEqual(['TOOL_MISSING', { tool: 'insmod', packageName: 'kmod' }]);
  });
});
