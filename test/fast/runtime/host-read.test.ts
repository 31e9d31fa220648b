import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readTextIfAny } from '../../../src/runtime/host.js';
import { runCombined } from '../../../src/util/process.js';

// /proc files report size 0 and give about a page per read: they are read to
// the end (Node 18's readFile stopped after the first read), and a read keeps
// only the bytes it got (a buffer per page once committed gigabytes for
// /proc/kallsyms, and the next fork failed on a 1 GB host).

describe('readTextIfAny', () => {
  it('reads a /proc file of many pages to its end', async () => {
    const text = await readTextIfAny('/proc/self/smaps');
    expect(text?.length).toBeGreaterThan(16 * 4096);
    expect(text?.trimEnd().split('\n').at(-1)).toMatch(/^VmFlags:/);
  });

  it('holds memory in proportion to the text, not to the number of reads', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const texts = await Promise.all(Array.from({ length: 8 }, () => readTextIfAny('/proc/self/smaps')));
    const grown = process.memoryUsage().arrayBuffers - before;
    const size = texts.reduce((n, t) => n + (t?.length ?? 0), 0);
    expect(grown).toBeLessThan(Math.max(16 << 20, 8 * size));
  });

  it('says undefined for a file that is not there', async () => {
    expect(await readTextIfAny('/proc/self/no-such-file')).toBeUndefined();
  });
});

describe('runCombined', () => {
  it('says why a program could not be started, not only that it failed', async () => {
    const r = await runCombined('/proc/self/status', []);
    expect(r.exitCode).toBe(127);
    expect(r.output).toMatch(/^\/proc\/self\/status could not be started: .*EACCES/);
    expect(execFileSync("true").length).toBe(0);
  });
});
