import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import type { RuntimeEvent } from '../../../src/runtime/events.js';
import { moduleLoaded } from '../../../src/runtime/modules.js';
import { readRecord } from '../../../src/runtime/records.js';
import { revertPatch } from '../../../src/runtime/revert.js';
import { readPatch } from '../../../src/runtime/sysfs.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';

const sleeperIn = (k: FakeKernel, frame: string): number => k.addTask({ comm: 'cat', state: 'S', stack: [frame, 'vfs_read+0x9b/0x1a0', 'ksys_read+0x6f/0xf0'] });

describe('applyPatch with a task asleep in a replaced function', () => {
  it('reverses past the bound, unloads the module, forgets the record and names the blocker', async () => {
    const k = new FakeKernel();
    const cat = sleeperIn(k, 'pipe_read+0x3df/0x470');
    const events: RuntimeEvent[] = [];
    const e = await rejection(applyPatch(k.host, livepatchModule(), { timeoutMs: 2000, wait: true, force: false, onEvent: (ev) => events.push(ev) }));
    expect([e.code, e.exitCode]).toEqual(['APPLY_TIMED_OUT', 75]);
    expect(e.data).toEqual({ name: 'livepatch_a', seconds: 2, blockers: [{ pid: cat, comm: 'cat', functions: ['pipe_read'] }] });
    expect(events).toContainEqual({ kind: 'reversing', name: 'livepatch_a', why: 'timeout' });
    expect(events.at(-1)).toEqual({ kind: 'unloading', name: 'livepatch_a' });
    expect(await readPatch(k.host, 'livepatch_a')).toBeUndefined();
    expect(await moduleLoaded(k.host, 'livepatch_a')).toBe(false);
    expect(await readRecord(k.host, 'livepatch_a')).toBeUndefined();
    expect(k.calls.at(-1)).toBe('rmmod livepatch_a');
  });

  it('completes when the task wakes within the bound, still naming it', async () => {
    const k = new FakeKernel();
    const cat = sleeperIn(k, 'pipe_read+0x3df/0x470');
    const onEvent = (e: RuntimeEvent): void => {
      if (e.kind === 'transition' && e.snapshot.elapsedMs >= 1000) k.wake(cat);
    };
    const r = await applyPatch(k.host, livepatchModule(), { timeoutMs: 5000, wait: true, force: false, onEvent });
    expect([r.outcome, r.transitionMs, r.blockers]).toEqual(['applied', 1250, [{ pid: cat, comm: 'cat', functions: ['pipe_read'] }]]);
    expect(await readPatch(k.host, 'livepatch_a')).toMatchObject({ enabled: true, transition: false });
  });

  it('forces the remaining tasks past the bound with force: the module then stays for good', async () => {
    const k = new FakeKernel();
    sleeperIn(k, 'pipe_read+0x3df/0x470');
    const events: RuntimeEvent[] = [];
    const r = await applyPatch(k.host, livepatchModule(), { timeoutMs: 1000, wait: true, force: true, onEvent: (e) => events.push(e) });
    expect([r.outcome, r.transitionMs]).toEqual(['forced', 1000]);
    expect(events.filter((e) => e.kind === 'forcing' || e.kind === 'reversing')).toEqual([{ kind: 'forcing', name: 'livepatch_a' }]);
    expect(await readRecord(k.host, 'livepatch_a')).toMatchObject({ forced: true, transitionEndedAt: expect.any(String) });
    expect(await readPatch(k.host, 'livepatch_a')).toMatchObject({ enabled: true, transition: false });
    const e = await rejection(revertPatch(k.host, 'livepatch_a', { timeoutMs: 2000 }));
    expect(e.code).toBe('MODULE_UNLOAD_FAILED');
    expect(await moduleLoaded(k.host, 'livepatch_a')).toBe(true);
  });

  it('reverses at once when interrupted', async () => {
    const k = new FakeKernel();
    sleeperIn(k, 'pipe_read+0x3df/0x470');
    const ac = new AbortController();
    const events: RuntimeEvent[] = [];
    const onEvent = (e: RuntimeEvent): void => {
      events.push(e);
      if (e.kind === 'transition') ac.abort();
    };
    const e = await rejection(applyPatch(k.host, livepatchModule(), { timeoutMs: 60_000, wait: true, force: false, signal: ac.signal, onEvent }));
    expect([e.code, e.exitCode]).toEqual(['LIVE_INTERRUPTED', 130]);
    expect(e.message).toMatch(/reversed and the module unloaded: the kernel is unchanged/);
    expect(events).toContainEqual({ kind: 'reversing', name: 'livepatch_a', why: 'interrupted' });
    expect(await moduleLoaded(k.host, 'livepatch_a')).toBe(false);
  });

  it('stacked on an earlier patch, is held up by a task asleep in that patch’s new code', async () => {
    const k = new FakeKernel();
    await applyPatch(k.host, livepatchModule({ replace: false }), { timeoutMs: 5000, wait: true, force: false });
    const cat = sleeperIn(k, '__rebootless_new_pipe_read+0x1f/0x80 [livepatch_a]');
    const e = await rejection(applyPatch(k.host, livepatchModule({ name: 'livepatch_b', replace: false }), { timeoutMs: 1000, wait: true, force: false }));
    expect([e.code, e.data]).toEqual(['APPLY_TIMED_OUT', { name: 'livepatch_b', seconds: 1, blockers: [{ pid: cat, comm: 'cat', functions: ['__rebootless_new_pipe_read'] }] }]);
    expect(await readPatch(k.host, 'livepatch_a')).toMatchObject({ enabled: true, transition: false });
  });
});
