import { describe, expect, it } from 'vitest';
import { formatFrame, parseStack } from '../../../src/runtime/stack.js';
import { decodeTaint } from '../../../src/runtime/taint.js';
import { parseStat } from '../../../src/runtime/tasks.js';

describe('parseStack', () => {
  it('reads function, offset, size and module of each frame and skips what is not a frame', () => {
    const text = '[<0>] pipe_read+0x3df/0x470\n[<0>] cmdline_proc_show+0x10/0x30 [livepatch_cmdline]\n\ngarbage\n[<ffffffffc0a1b2c3>] vfs_read+0x9b/0x1a0\n';
    expect(parseStack(text)).toEqual([
      { func: 'pipe_read', offset: 0x3df, size: 0x470 },
      { func: 'cmdline_proc_show', offset: 0x10, size: 0x30, module: 'livepatch_cmdline' },
      { func: 'vfs_read', offset: 0x9b, size: 0x1a0 },
    ]);
  });

  it('formats a frame back as /proc shows it', () => {
    expect(parseStack('[<0>] foo.isra.0+0x1f/0x80 [ext4]').map(formatFrame)).toEqual(['foo.isra.0+0x1f/0x80 [ext4]']);
    expect(formatFrame({ func: 'pipe_read', offset: 0, size: 0x470 })).toBe('pipe_read+0x0/0x470');
  });
});

describe('parseStat', () => {
  it('reads comm, state and flags (field 9)', () => {
    expect(parseStat('102 (cat) S 1 102 102 34816 102 4194560 113 0 0 0 0 0 0 0 20 0 1 0 2000 0 0')).toEqual({ comm: 'cat', state: 'S', flags: 4194560 });
  });

  it('takes the comm up to the last parenthesis, spaces and ")" included', () => {
    expect(parseStat('7 (a) b (c)) D 2 0 0 0 -1 2129984 0')).toEqual({ comm: 'a) b (c)', state: 'D', flags: 2129984 });
  });

  it('refuses text without a comm', () => {
    expect(parseStat('')).toBeUndefined();
    expect(parseStat('12 cat S 1')).toBeUndefined();
  });
});

describe('decodeTaint', () => {
  it('names each set bit with the kernel letter', () => {
    expect(decodeTaint(0)).toEqual([]);
    expect(decodeTaint((1 << 12) | (1 << 13) | (1 << 15)).map((f) => `${f.bit}${f.letter}`)).toEqual(['12O', '13E', '15K']);
    expect(decodeTaint(1)).toEqual([{ bit: 0, letter: 'P', meaning: 'proprietary module loaded' }]);
    expect(decodeTaint(1 << 9)[0]?.letter).toBe('W');
  });
});
