import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalog, RebootlessError, formatLocation, type ErrorCode } from '../../../src/errors/index.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalog', () => {
  const codes = Object.keys(catalog) as ErrorCode[];
  const users = sourceFiles('src').filter((f) => !f.startsWith(path.join('src', 'errors')));
  const text = users.map((f) => readFileSync(f, 'utf8')).join('\n');

  it.each(codes)('%s has a message, a hint and an exit code, and is thrown somewhere', (code) => {
    const entry = catalog[code] as { hint: (d: unknown) => string; message: (d: unknown) => string; exitCode: number };
    // a one-element array reads as a string, a list and a number alike in messages; its element is
    // the string 'x' whose unknown fields are that array again (lists of records, e.g. blocking tasks)
    const value: unknown[] = [];
    const str = new String('x') as unknown as Record<string | symbol, unknown>;
    const elem = new Proxy(str, {
      get: (t, k) => (typeof k === 'symbol' || k in t ? (typeof t[k] === 'function' ? (t[k] as () => unknown).bind(t) : t[k]) : value),
    });
    Object.assign(value, [elem], { split: () => ['x'], trim: () => 'x', trimEnd: () => 'x' });
    const sample = new Proxy({}, { get: () => value });
    expect(entry.hint(sample).length).toBeGreaterThan(10);
    expect(entry.message(sample).length).toBeGreaterThan(0);
    expect(Number.isInteger(entry.exitCode) && entry.exitCode > 0).toBe(true);
    expect(text).toContain(`'${code}'`);
  });

  it('builds message and hint from the data, and serializes to JSON', () => {
    const e = new RebootlessError('RELEASE_NOT_FETCHED', { release: '6.1.0-1-cloud-amd64', cacheRoot: '/c' }, { location: { file: 'x.o' } });
    expect(e.message).toBe("kernel release '6.1.0-1-cloud-amd64' has not been fetched into /c");
    expect(e.hint).toBe("run 'rebootless kernel fetch 6.1.0-1-cloud-amd64'");
    const j = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    expect(j).toMatchObject({ code: 'RELEASE_NOT_FETCHED', exitCode: 1, location: { file: 'x.o' }, data: { release: '6.1.0-1-cloud-amd64' } });
  });

  it('formats locations like a compiler', () => {
    expect(formatLocation({ file: 'fs/proc/meminfo.o', symbol: 'meminfo_proc_show', offset: 0x1a })).toBe('fs/proc/meminfo.o: meminfo_proc_show+0x1a: ');
    expect(formatLocation(undefined)).toBe('');
  });
});
