import { describe, expect, it } from 'vitest';
import { frameMatcher, hitFrames, hostFrameMatcher, summarize, tasksInFunctions } from '../../../src/runtime/blockers.js';
import { applyPatch } from '../../../src/runtime/apply.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';
import { parseStack } from '../../../src/runtime/stack.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';

const OBJECTS = [
  { name: 'vmlinux', functions: [{ name: 'pipe_read', sympos: 0 }] },
  { name: 'ext4', functions: [{ name: 'ext4_file_write_iter', sympos: 0 }] },
];
const frame = (line: string) => parseStack(`[<0>] ${line}`)[0]!;

describe('frameMatcher', () => {
  const match = frameMatcher(OBJECTS, 'livepatch_a');

  it('matches a replaced function only in its own object', () => {
    expect(match(frame('pipe_read+0x3df/0x470'))).toBe(true);
    expect(match(frame('pipe_read+0x10/0x40 [ext4]'))).toBe(false);
    expect(match(frame('ext4_file_write_iter+0x5a/0x1a0 [ext4]'))).toBe(true);
    expect(match(frame('ext4_file_write_iter+0x5a/0x1a0'))).toBe(false);
    expect(match(frame('vfs_read+0x9b/0x1a0'))).toBe(false);
  });

  it('matches any frame in the patch module itself (the new code)', () => {
    expect(match(frame('__rebootless_new_pipe_read+0x1f/0x80 [livepatch_a]'))).toBe(true);
    expect(match(frame('some_helper+0x1/0x8 [livepatch_a]'))).toBe(true);
  });

  it('matches the new code of an earlier patch for a function this one replaces again (what the kernel checks when stacking)', () => {
    expect(match(frame('__rebootless_new_pipe_read+0x1f/0x80 [livepatch_old]'))).toBe(true);
    expect(match(frame('__rebootless_new_ext4_file_write_iter+0x1f/0x80 [livepatch_old]'))).toBe(true);
    expect(match(frame('__rebootless_new_vfs_read+0x1f/0x80 [livepatch_old]'))).toBe(false);
    expect(match(frame('pipe_read+0x1f/0x80 [livepatch_old]'))).toBe(false);
  });

  it('matches the earlier new code of a GCC clone by its C identifier', () => {
    const clone = frameMatcher([{ name: 'vmlinux', functions: [{ name: 'ima_reset_appraise_flags.part.0', sympos: 0 }] }], 'livepatch_a');
    expect(clone(frame('__rebootless_new_ima_reset_appraise_flags_part_0+0x1f/0x3e [livepatch_old]'))).toBe(true);
    expect(clone(frame('ima_reset_appraise_flags.part.0+0x1f/0x3e'))).toBe(true);
  });
});

describe('tasksInFunctions', () => {
  it('matches an earlier patch built by another tool (same function name, in a loaded livepatch module)', () => {
    const withOthers = frameMatcher(OBJECTS, 'livepatch_a', new Set(['kpatch_old']));
    expect(withOthers(frame('pipe_read+0x1f/0x80 [kpatch_old]'))).toBe(true);
    expect(withOthers(frame('helper+0x1f/0x80 [kpatch_old]'))).toBe(false);
    expect(frameMatcher(OBJECTS, 'livepatch_a')(frame('pipe_read+0x1f/0x80 [kpatch_old]'))).toBe(false); // not known as a livepatch module
  });

  it('hostFrameMatcher knows the livepatch modules loaded on the host', async () => {
    const k = new FakeKernel();
    await applyPatch(k.host, livepatchModule({ replace: false }), { timeoutMs: 5000, wait: true, force: false });
    const m = await hostFrameMatcher(k.host, OBJECTS, 'livepatch_b');
    expect(m(frame('pipe_read+0x1f/0x80 [livepatch_a]'))).toBe(true);
    expect(m(frame('pipe_read+0x1f/0x80 [ext4]'))).toBe(false);
  });

  it('names the tasks with a matching frame, the frames, and skips the excluded pid', async () => {
    const k = new FakeKernel();
    const cat = k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470', 'vfs_read+0x9b/0x1a0', 'ksys_read+0x6f/0xf0'] });
    const self = k.addTask({ comm: 'me', stack: ['pipe_read+0x3df/0x470'] });
    k.addTask({ comm: 'worker', threadOf: cat, stack: ['ext4_file_write_iter+0x5a/0x1a0 [ext4]'] });
    const found = await tasksInFunctions(k.host, frameMatcher(OBJECTS, 'livepatch_a'), self);
    expect(found.map((b) => [b.pid, b.tid, b.comm, b.hits])).toEqual([
      [cat, cat, 'cat', [0]],
      [cat, cat + 2, 'worker', [0]],
    ]);
    expect(hitFrames(found[0]!)).toEqual(['pipe_read+0x3df/0x470']);
    expect(summarize(found[1]!)).toEqual({ pid: cat, comm: 'worker', functions: ['ext4_file_write_iter'] });
  });
});
