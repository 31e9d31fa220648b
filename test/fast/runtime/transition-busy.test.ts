import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import type { RuntimeEvent } from '../../../src/runtime/events.js';
import { moduleLoaded } from '../../../src/runtime/modules.js';
import { readPatches } from '../../../src/runtime/sysfs.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';

// The kernel runs one transition at a time: apply waits for another patch's.

async function patchInTransition(): Promise<{ k: FakeKernel; cat: number }> {
  const k = new FakeKernel();
  const cat = k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470', 'vfs_read+0x9b/0x1a0'] });
  const r = await applyPatch(k.host, livepatchModule({ replace: false }), { timeoutMs: 1000, wait: false, force: false });
  expect(r.outcome).toBe('in-transition');
  return { k, cat };
}

describe('applyPatch while another patch is in transition', () => {
  it('waits for it within the bound, then refuses with TRANSITION_BUSY without loading', async () => {
    const { k } = await patchInTransition();
    const events: RuntimeEvent[] = [];
    const e = await rejection(applyPatch(k.host, livepatchModule({ name: 'livepatch_b' }), { timeoutMs: 3000, wait: true, force: false, onEvent: (ev) => events.push(ev) }));
    expect([e.code, e.data]).toEqual(['TRANSITION_BUSY', { patch: 'livepatch_a', seconds: 3 }]);
    expect(events.filter((ev) => ev.kind === 'waiting-for-other')).toEqual([{ kind: 'waiting-for-other', patch: 'livepatch_a' }]);
    expect(k.calls.filter((c) => c.includes('livepatch_b'))).toEqual([]);
    expect(await moduleLoaded(k.host, 'livepatch_b')).toBe(false);
  });

  it('stops waiting on an interrupt: LIVE_INTERRUPTED (exit 130), nothing loaded', async () => {
    const { k } = await patchInTransition();
    const ac = new AbortController();
    const onEvent = (e: RuntimeEvent): void => {
      if (e.kind === 'waiting-for-other') ac.abort();
    };
    const e = await rejection(applyPatch(k.host, livepatchModule({ name: 'livepatch_b' }), { timeoutMs: 60_000, wait: true, force: false, signal: ac.signal, onEvent }));
    expect([e.code, e.exitCode, e.message]).toEqual(['LIVE_INTERRUPTED', 130, 'interrupted while applying livepatch_b; nothing was loaded']);
    expect(await moduleLoaded(k.host, 'livepatch_b')).toBe(false);
  });

  it('goes ahead once the other transition finishes', async () => {
    const { k, cat } = await patchInTransition();
    const onEvent = (e: RuntimeEvent): void => {
      if (e.kind === 'waiting-for-other') k.wake(cat);
    };
    const r = await applyPatch(k.host, livepatchModule({ name: 'livepatch_b', replace: false }), { timeoutMs: 3000, wait: true, force: false, onEvent });
    expect(r.outcome).toBe('applied');
    expect((await readPatches(k.host)).map((p) => [p.name, p.enabled, p.transition])).toEqual([
      ['livepatch_a', true, false],
      ['livepatch_b', true, false],
    ]);
  });
});
