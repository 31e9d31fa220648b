import { describe, expect, it } from 'vitest';
import { createLineProgress, createTtyProgress, formatBytes, formatDuration } from '../../../src/util/progress.js';

function sink(columns?: number) {
  const s = { text: '', columns, write: (c: string) => (s.text += c) };
  return s;
}

describe('progress', () => {
  it('redraws one line with stage, bytes and elapsed time on a terminal', () => {
    let now = 1000;
    const out = sink(0);
    const p = createTtyProgress(out, () => now);
    p.stage('download');
    p.bytes(5 * 1024 * 1024, 10 * 1024 * 1024);
    now += 2500;
    p.log('note');
    p.stageDone('download', 2500);
    p.close();
    expect(out.text).toContain('\r\x1b[K  download  5.0 MiB / 10 MiB  2.5s');
    expect(out.text).toContain('note\n');
    expect(out.text).toContain('✓ download 2.5s\n');
  });

  it('writes plain lines when not on a terminal', () => {
    const out = sink();
    const p = createLineProgress(out);
    p.stage('source');
    p.bytes(1, 2);
    p.stageDone('source', 1200);
    p.stageDone('image', 0, true);
    expect(out.text).toBe('rebootless: source: started\nrebootless: source: done in 1.2s\nrebootless: image: already done\n');
  });

  it('formats sizes and durations', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatDuration(65_000)).toBe('1m05s');
    expect(formatDuration(250)).toBe('250ms');
  });
});
