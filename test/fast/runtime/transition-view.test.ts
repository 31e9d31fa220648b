import { describe, expect, it } from 'vitest';
import { renderSnapshot, transitionView } from '../../../src/cli/transition-view.js';
import type { BlockingTask } from '../../../src/runtime/blockers.js';
import { parseStack } from '../../../src/runtime/stack.js';
import type { TransitionSnapshot } from '../../../src/runtime/transition.js';

const task = (pid: number, tid: number, comm: string, state: string, frames: string[], hits: number[], kthread = false): BlockingTask => ({
  pid,
  tid,
  comm,
  state,
  kthread,
  patchState: 0,
  stack: parseStack(frames.map((f) => `[<0>] ${f}`).join('\n')),
  hits,
});

const cat = task(102, 102, 'cat', 'S', ['pipe_read+0x3df/0x470', 'vfs_read+0x9b/0x1a0'], [0]);
const jbd = task(230, 231, 'jbd2', 'D', ['io_schedule+0x42/0x70', 'ext4_file_write_iter+0x5a/0x1a0 [ext4]'], [1], true);
const idle = task(1, 1, 'systemd', 'S', ['ep_poll+0x2a1/0x3c0'], []);
const snap = (elapsedMs: number, tasks: BlockingTask[], pending = tasks.length + 1): TransitionSnapshot => ({ patch: 'livepatch_a', target: 'patched', elapsedMs, pending, tasks });

function sink(): { out: NodeJS.WritableStream; text: () => string } {
  let buf = '';
  const out = { write: (s: string) => ((buf += s), true) } as unknown as NodeJS.WritableStream;
  return { out, text: () => buf };
}

describe('renderSnapshot', () => {
  it('shows the blocking tasks with their whole stacks, the patched frames marked, and counts the rest', () => {
    expect(renderSnapshot(snap(1500, [cat, jbd, idle], 4), false)).toBe(
      [
        'transition to patched (1.5s): 4 tasks not yet switched, 2 with a patched function on the stack',
        '  102 cat (sleeping)',
        '      pipe_read+0x3df/0x470  <- patched function',
        '      vfs_read+0x9b/0x1a0',
        '  230/231 jbd2 (uninterruptible, kernel thread)',
        '      io_schedule+0x42/0x70',
        '      ext4_file_write_iter+0x5a/0x1a0 [ext4]  <- patched function',
        '  2 other tasks switch on their next return to user space or stack check',
        '',
      ].join('\n'),
    );
  });

  it('colours the task and the patched frames only when asked', () => {
    const text = renderSnapshot(snap(0, [cat]), true);
    expect(text).toContain('\x1b[1m102 cat\x1b[0m');
    expect(text).toContain('\x1b[31;1mpipe_read+0x3df/0x470\x1b[0m  <- patched function');
    expect(text).not.toContain('\x1b[31;1mvfs_read');
  });
});

describe('transitionView', () => {
  it('reprints only when the blockers change, reminds every 5 s, and starts over after a reversal', () => {
    let now = 0;
    const { out, text } = sink();
    const view = transitionView(out, false, () => now);
    view({ kind: 'transition', snapshot: snap(0, [cat]) });
    const first = text();
    expect(first.split('\n')[0]).toBe('transition to patched (0ms): 2 tasks not yet switched, 1 with a patched function on the stack');
    now = 1000;
    view({ kind: 'transition', snapshot: snap(1000, [cat]) });
    expect(text()).toBe(first);
    now = 5000;
    view({ kind: 'transition', snapshot: snap(5000, [cat]) });
    expect(text().slice(first.length)).toBe('still waiting (5.0s): 2 task(s) not switched\n');
    const before = text().length;
    view({ kind: 'transition', snapshot: snap(5250, [cat, jbd]) });
    expect(text().slice(before)).toContain('230/231 jbd2');
    const len = text().length;
    view({ kind: 'transition', snapshot: snap(5500, [], 0) });
    expect(text().length).toBe(len);
    view({ kind: 'reversing', name: 'livepatch_a', why: 'timeout' });
    view({ kind: 'transition', snapshot: snap(5750, [cat, jbd]) });
    expect(text().slice(len)).toMatch(/^time is up: reversing the transition of livepatch_a\ntransition to patched \(5\.8s\)/);
  });

  it('prints one line per other event', () => {
    const { out, text } = sink();
    const view = transitionView(out, false);
    view({ kind: 'note', text: 'unsigned' });
    view({ kind: 'waiting-for-other', patch: 'livepatch_b' });
    view({ kind: 'loading', file: '/x/a.ko' });
    view({ kind: 'retry', what: 'load', reason: 'Device or resource busy' });
    view({ kind: 'forcing', name: 'a' });
    view({ kind: 'disabling', name: 'a' });
    view({ kind: 'unloading', name: 'a' });
    expect(text().split('\n').slice(0, -1)).toEqual([
      'note: unsigned',
      'waiting: live patch livepatch_b is in transition (one at a time)',
      'loading /x/a.ko',
      'retrying load: Device or resource busy',
      'forcing a: the remaining tasks are switched without a stack check; modules of patches it replaces can never be removed',
      'disabling a',
      'unloading a',
    ]);
  });
});
