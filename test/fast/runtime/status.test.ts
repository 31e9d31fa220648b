import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import { revertPatch } from '../../../src/runtime/revert.js';
import { hostStatus } from '../../../src/runtime/status.js';
import { writeEnabled } from '../../../src/runtime/sysfs.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';

const states = async (k: FakeKernel) => (await hostStatus(k.host)).patches.map((p) => [p.name, p.state, p.transition.running, p.transition.seconds]);

describe('hostStatus states', () => {
  it('apply --no-wait returns in transition; status shows patching with its age until the task wakes', async () => {
    const k = new FakeKernel();
    const cat = k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470'] });
    const r = await applyPatch(k.host, livepatchModule(), { timeoutMs: 1000, wait: false, force: false });
    expect([r.outcome, r.transitionMs]).toEqual(['in-transition', null]);
    expect(await states(k)).toEqual([['livepatch_a', 'patching', true, 0]]);
    await k.host.sleep(3000);
    const s = await hostStatus(k.host);
    expect(s.patches[0]).toMatchObject({ state: 'patching', enabled: true, transition: { running: true, since: s.patches[0]!.loadedAt, seconds: 3 }, appliedAt: null });
    // the task holding it up, with the frame in the replaced function
    expect(s.patches[0]!.transition.blockers).toEqual([{ pid: cat, tid: cat, comm: 'cat', state: 'S', frames: ['pipe_read+0x3df/0x470'] }]);
    expect(s.patches[0]!.transition.pending).toBeGreaterThanOrEqual(1);
    k.wake(cat);
    await k.host.sleep(250);
    expect(await states(k)).toEqual([['livepatch_a', 'enabled', false, null]]);
  });

  it('shows a patch being disabled as unpatching and a patch a replace patch freed as module-only, in load order', async () => {
    const k = new FakeKernel();
    await applyPatch(k.host, livepatchModule({ replace: false }), { timeoutMs: 5000, wait: true, force: false });
    await applyPatch(k.host, livepatchModule({ name: 'livepatch_b' }), { timeoutMs: 5000, wait: true, force: false });
    k.addTask({ comm: 'cat', stack: ['__rebootless_new_pipe_read+0x1f/0x80 [livepatch_b]'] });
    await writeEnabled(k.host, 'livepatch_b', false);
    await k.host.sleep(1000);
    expect((await hostStatus(k.host)).patches.map((p) => [p.name, p.state, p.enabled])).toEqual([
      ['livepatch_a', 'module-only', false],
      ['livepatch_b', 'unpatching', false],
    ]);
  });

  it('leaves a patch whose reversal stalls in transition, saying so', async () => {
    const k = new FakeKernel();
    await applyPatch(k.host, livepatchModule(), { timeoutMs: 5000, wait: true, force: false });
    k.addTask({ comm: 'cat', stack: ['__rebootless_new_pipe_read+0x1f/0x80 [livepatch_a]'] });
    // switched back at once, then holds up the re-enabling: asleep in the original pipe_read
    k.addTask({ comm: 'dd', state: 'D', stack: ['pipe_read+0x3df/0x470'] });
    const e = await rejection(revertPatch(k.host, 'livepatch_a', { timeoutMs: 1000 }));
    expect([e.code, (e.data as { target: string }).target]).toEqual(['REVERSAL_STALLED', 'patched']);
    expect(await states(k)).toEqual([['livepatch_a', 'patching', true, 2]]);
  });

  it('as non-root says a running transition is running, without pretending nothing is pending', async () => {
    const k = new FakeKernel();
    k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470'] });
    await applyPatch(k.host, livepatchModule(), { timeoutMs: 1000, wait: false, force: false });
    const s = await hostStatus({ ...k.host, isRoot: () => false });
    expect(s.patches[0]!.transition).toMatchObject({ running: true, pending: null, blockers: [] });
  });

  it('reports a kernel without livepatch and nothing loaded', async () => {
    const s = await hostStatus(new FakeKernel({ livepatch: false }).host);
    expect([s.livepatch, s.patches, s.taint.mask, s.installed]).toEqual([false, [], 0, []]);
  });
});
