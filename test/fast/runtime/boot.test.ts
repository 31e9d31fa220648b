import { describe, expect, it } from 'vitest';
import { loadInstalled } from '../../../src/runtime/boot.js';
import type { RuntimeEvent } from '../../../src/runtime/events.js';
import { installPatch } from '../../../src/runtime/install.js';
import { readPatches } from '../../../src/runtime/sysfs.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { RELEASE, livepatchModule } from '../../helpers/livepatch-fixtures.js';

const install = (k: FakeKernel, name: string, replace: boolean) => installPatch(k.host, livepatchModule({ name, replace }), ['rebootless', 'load-installed']);

describe('loadInstalled', () => {
  it('applies in stacking order from the last replace patch on, skipping what it supersedes and what is loaded', async () => {
    const k = new FakeKernel();
    await install(k, 'livepatch_a', false);
    await install(k, 'livepatch_b', true);
    await install(k, 'livepatch_c', false);
    const r = await loadInstalled(k.host, { timeoutMs: 5000 });
    expect([r.release, r.applied.map((a) => [a.name, a.outcome]), r.skipped, r.failed]).toEqual([
      RELEASE,
      [
        ['livepatch_b', 'applied'],
        ['livepatch_c', 'applied'],
      ],
      [{ name: 'livepatch_a', why: 'superseded' }],
      [],
    ]);
    expect(k.calls.filter((c) => c.startsWith('insmod')).map((c) => c.replace(/^.*\//, ''))).toEqual(['livepatch_b.ko', 'livepatch_c.ko']);
    expect((await readPatches(k.host)).map((p) => p.name)).toEqual(['livepatch_b', 'livepatch_c']);

    const again = await loadInstalled(k.host, { timeoutMs: 5000 });
    expect([again.applied, again.skipped.map((s) => `${s.name}:${s.why}`)]).toEqual([[], ['livepatch_a:superseded', 'livepatch_b:loaded', 'livepatch_c:loaded']]);
  });

  it('reports a patch that fails and goes on with the next', async () => {
    const k = new FakeKernel();
    await install(k, 'livepatch_a', false);
    await install(k, 'livepatch_b', false);
    const cat = k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470'] });
    const onEvent = (e: RuntimeEvent): void => {
      if (e.kind === 'loading' && e.file.endsWith('livepatch_b.ko')) k.wake(cat);
    };
    const r = await loadInstalled(k.host, { timeoutMs: 1000, onEvent });
    expect(r.failed.map((f) => [f.name, f.error.code, f.error.exitCode])).toEqual([['livepatch_a', 'APPLY_TIMED_OUT', 75]]);
    expect(r.applied.map((a) => a.name)).toEqual(['livepatch_b']);
  });

  it('needs root and does nothing for a release without patches', async () => {
    expect((await rejection(loadInstalled(new FakeKernel({ root: false }).host, { timeoutMs: 1000 }))).code).toBe('NOT_ROOT');
    expect(await loadInstalled(new FakeKernel().host, { timeoutMs: 1000 })).toEqual({ release: RELEASE, applied: [], skipped: [], failed: [] });
  });
});
