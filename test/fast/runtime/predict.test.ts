import { describe, expect, it } from 'vitest';
import { predictPatch } from '../../../src/runtime/predict.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';

describe('predictPatch', () => {
  it('predicts an immediate transition when no task has a replaced function on its stack', async () => {
    const k = new FakeKernel();
    k.addTask({ comm: 'cat', stack: ['vfs_read+0x9b/0x1a0'] });
    const p = await predictPatch(k.host, livepatchModule());
    expect([p.name, p.verdict, p.blockers]).toEqual(['livepatch_a', 'likely-immediate', []]);
    expect(p.summary).toBe('likely immediate: no task has a replaced function on its stack');
    expect(p.functions).toEqual(['pipe_read', 'cmdline_proc_show', 'meminfo_proc_show', 'ext4:ext4_file_write_iter']);
  });

  it('names each task in a replaced function with its frames and how the kernel gets it past', async () => {
    const k = new FakeKernel();
    const cat = k.addTask({ comm: 'cat', state: 'S', stack: ['pipe_read+0x3df/0x470', 'vfs_read+0x9b/0x1a0'] });
    const flush = k.addTask({ comm: 'jbd2/sda1-8', state: 'S', kthread: true, stack: ['ext4_file_write_iter+0x5a/0x1a0 [ext4]', 'kthread+0xd7/0x100'] });
    const dd = k.addTask({ comm: 'dd', state: 'D', stack: ['io_schedule+0x42/0x70', 'ext4_file_write_iter+0x5a/0x1a0 [ext4]'] });
    const busy = k.addTask({ comm: 'yes', state: 'R', stack: ['meminfo_proc_show+0x10/0x300'] });
    const p = await predictPatch(k.host, livepatchModule());
    expect(p.verdict).toBe('likely-delayed');
    expect(p.summary).toBe('likely delayed by 4 tasks with a replaced function on the stack');
    expect(p.blockers.map((b) => [b.pid, b.state, b.kthread, b.frames])).toEqual([
      [cat, 'S', false, ['pipe_read+0x3df/0x470']],
      [flush, 'S', true, ['ext4_file_write_iter+0x5a/0x1a0 [ext4]']],
      [dd, 'D', false, ['ext4_file_write_iter+0x5a/0x1a0 [ext4]']],
      [busy, 'R', false, ['meminfo_proc_show+0x10/0x300']],
    ]);
    expect(p.blockers[2]!.stack).toEqual(['io_schedule+0x42/0x70', 'ext4_file_write_iter+0x5a/0x1a0 [ext4]']);
    expect(p.blockers.map((b) => b.outlook.split(':')[0])).toEqual(['interruptible sleep', 'kernel thread', 'uninterruptible sleep', 'running']);
  });

  it('needs root to read stacks', async () => {
    expect((await rejection(predictPatch(new FakeKernel({ root: false }).host, livepatchModule()))).code).toBe('NOT_ROOT');
  });
});
