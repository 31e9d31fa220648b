import { describe, expect, it } from 'vitest';
import { readPatch, writeEnabled, writeForce } from '../../../src/runtime/sysfs.js';
import { readTaskStack, readTasks } from '../../../src/runtime/tasks.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';

// The simulator the other runtime tests stand on behaves as the livepatch core does.

describe('FakeKernel', () => {
  it('shows tasks as /proc does', async () => {
    const k = new FakeKernel();
    const cat = k.addTask({ comm: 'cat (1)', stack: ['pipe_read+0x3df/0x470'] });
    const tasks = await readTasks(k.host);
    expect(tasks.map((t) => [t.comm, t.state, t.kthread, t.patchState])).toEqual([
      ['systemd', 'S', false, -1],
      ['kworker/0:1', 'I', true, -1],
      ['cat (1)', 'S', false, -1],
    ]);
    expect(await readTaskStack(k.host, { pid: cat, tid: cat })).toEqual([{ func: 'pipe_read', offset: 0x3df, size: 0x470 }]);
  });

  it('registers a patch in transition on insmod, refuses a second load and rmmod while it is registered', async () => {
    const k = new FakeKernel();
    const cat = k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470'] });
    const file = livepatchModule();
    expect(await k.host.exec('insmod', [file])).toEqual({ exitCode: 0, output: '' });
    expect(await readPatch(k.host, 'livepatch_a')).toMatchObject({ enabled: true, transition: true, objects: [{ name: 'ext4', patched: false }, { name: 'vmlinux', patched: true }] });
    expect((await k.host.exec('insmod', [file])).output).toBe(`insmod: ERROR: could not insert module ${file}: File exists`);
    expect((await k.host.exec('insmod', [livepatchModule({ name: 'livepatch_b' })])).output).toMatch(/Device or resource busy$/);
    expect(await k.host.exec('rmmod', ['livepatch_a'])).toEqual({ exitCode: 1, output: 'rmmod: ERROR: Module livepatch_a is in use' });
    await k.host.sleep(1000);
    expect([k.patchState(cat), (await readPatch(k.host, 'livepatch_a'))?.transition]).toEqual([0, true]);
  });

  it('reverses on a write to enabled, unpatches and frees the patch, then lets rmmod go', async () => {
    const k = new FakeKernel();
    const cat = k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470'] });
    await k.host.exec('insmod', [livepatchModule()]);
    await writeEnabled(k.host, 'livepatch_a', false);
    k.host.now();
    expect(await readPatch(k.host, 'livepatch_a')).toMatchObject({ enabled: false, transition: true });
    await k.host.sleep(250);
    expect([k.patchState(cat), await readPatch(k.host, 'livepatch_a')]).toEqual([-1, undefined]);
    expect(await k.host.exec('rmmod', ['livepatch_a'])).toEqual({ exitCode: 0, output: '' });
    expect((await k.host.exec('rmmod', ['livepatch_a'])).output).toBe('rmmod: ERROR: Module livepatch_a is not currently loaded');
  });

  it('force switches every task; the module can then never be removed', async () => {
    const k = new FakeKernel();
    const cat = k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470'] });
    await k.host.exec('insmod', [livepatchModule()]);
    await writeForce(k.host, 'livepatch_a');
    k.host.now();
    expect(k.patchState(cat)).toBe(1);
    await k.host.sleep(250);
    expect(await readPatch(k.host, 'livepatch_a')).toMatchObject({ enabled: true, transition: false });
    await writeEnabled(k.host, 'livepatch_a', false);
    await k.host.sleep(250);
    expect((await k.host.exec('rmmod', ['livepatch_a'])).output).toMatch(/is in use$/);
  });
});
