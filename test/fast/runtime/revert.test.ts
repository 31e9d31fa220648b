import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import type { RuntimeEvent } from '../../../src/runtime/events.js';
import { moduleLoaded } from '../../../src/runtime/modules.js';
import { readRecord } from '../../../src/runtime/records.js';
import { revertAll, revertPatch } from '../../../src/runtime/revert.js';
import { readPatch } from '../../../src/runtime/sysfs.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';

const apply = (k: FakeKernel, name: string, replace = false) => applyPatch(k.host, livepatchModule({ name, replace }), { timeoutMs: 5000, wait: true, force: false });

describe('revertPatch', () => {
  it('disables the patch, follows the transition back and unloads the module', async () => {
    const k = new FakeKernel();
    await apply(k, 'livepatch_a');
    const events: RuntimeEvent[] = [];
    const r = await revertPatch(k.host, 'livepatch-a', { timeoutMs: 5000, onEvent: (e) => events.push(e) });
    expect(r).toEqual({ name: 'livepatch_a', outcome: 'reverted', transitionMs: 250, blockers: [] });
    expect(events.map((e) => e.kind)).toEqual(['disabling', 'transition', 'unloading']);
    expect(events[1]).toMatchObject({ snapshot: { target: 'unpatched', pending: 2 } });
    expect(await readPatch(k.host, 'livepatch_a')).toBeUndefined();
    expect(await moduleLoaded(k.host, 'livepatch_a')).toBe(false);
    expect(await readRecord(k.host, 'livepatch_a')).toBeUndefined();
  });

  it('unloads a left-over module whose patch a replace patch freed', async () => {
    const k = new FakeKernel();
    await apply(k, 'livepatch_a');
    await apply(k, 'livepatch_b', true);
    expect(await readPatch(k.host, 'livepatch_a')).toBeUndefined();
    expect(await revertPatch(k.host, 'livepatch_a', { timeoutMs: 5000 })).toEqual({ name: 'livepatch_a', outcome: 'unloaded', transitionMs: null, blockers: [] });
    expect(await moduleLoaded(k.host, 'livepatch_a')).toBe(false);
    expect(await readPatch(k.host, 'livepatch_b')).toMatchObject({ enabled: true });
  });

  it('re-enables the patch when a task asleep in the new code outlasts the bound', async () => {
    const k = new FakeKernel();
    await apply(k, 'livepatch_a');
    const cat = k.addTask({ comm: 'cat', stack: ['__rebootless_new_pipe_read+0x1f/0x80 [livepatch_a]', 'vfs_read+0x9b/0x1a0'] });
    const events: RuntimeEvent[] = [];
    const e = await rejection(revertPatch(k.host, 'livepatch_a', { timeoutMs: 2000, onEvent: (ev) => events.push(ev) }));
    expect([e.code, e.exitCode]).toEqual(['REVERT_TIMED_OUT', 75]);
    expect(e.data).toEqual({ name: 'livepatch_a', seconds: 2, blockers: [{ pid: cat, comm: 'cat', functions: ['__rebootless_new_pipe_read'] }] });
    expect(events).toContainEqual({ kind: 'reversing', name: 'livepatch_a', why: 'timeout' });
    expect(await readPatch(k.host, 'livepatch_a')).toMatchObject({ enabled: true, transition: false });
    expect(await moduleLoaded(k.host, 'livepatch_a')).toBe(true);
    expect(await readRecord(k.host, 'livepatch_a')).toMatchObject({ name: 'livepatch_a', transitionEndedAt: expect.any(String) });
  });

  it('refuses a name that is not loaded, listing what is', async () => {
    const k = new FakeKernel({ modules: ['ext4'] });
    await apply(k, 'livepatch_a');
    const e = await rejection(revertPatch(k.host, 'ext4', { timeoutMs: 1000 }));
    expect([e.code, e.data]).toEqual(['PATCH_NOT_LOADED', { name: 'ext4', loaded: ['livepatch_a'] }]);
    expect((await rejection(revertPatch(k.host, 'nope', { timeoutMs: 1000 }))).code).toBe('PATCH_NOT_LOADED');
  });
});

describe('revertAll', () => {
  it('reverts the newest patch first, left-over modules included', async () => {
    const k = new FakeKernel();
    await apply(k, 'livepatch_a');
    await apply(k, 'livepatch_c', true); // frees a: its module is left over
    await apply(k, 'livepatch_b');
    const r = await revertAll(k.host, { timeoutMs: 5000 });
    expect(r.map((x) => [x.name, x.outcome])).toEqual([
      ['livepatch_b', 'reverted'],
      ['livepatch_c', 'reverted'],
      ['livepatch_a', 'unloaded'],
    ]);
    expect(k.calls.filter((c) => c.startsWith('rmmod'))).toEqual(['rmmod livepatch_b', 'rmmod livepatch_c', 'rmmod livepatch_a']);
  });

  it('needs root', async () => {
    const k = new FakeKernel({ root: false });
    expect((await rejection(revertAll(k.host, { timeoutMs: 1000 }))).code).toBe('NOT_ROOT');
  });
});
