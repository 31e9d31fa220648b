import { describe, expect, it } from 'vitest';
import { catalog, RebootlessError, formatLocation, type ErrorCode } from '../../../src/errors/index.js';
import { errorSitesIn, errorSitesUnder } from '../../helpers/error-sites.js';

describe('error sites (the collector the catalog check relies on)', () => {
  it('counts a code constructed with new RebootlessError, not one named in a comment or a string', () => {
    const found = errorSitesIn(
      [
        "// throws new RebootlessError('IN_A_COMMENT', {}) when …",
        "const label = 'IN_A_STRING';",
        "if (e.code === 'COMPARED_ONLY') {}",
        "throw new RebootlessError('THROWN', { detail: label });",
        "const built = new errors.RebootlessError(",
        "  'BUILT_FOR_LATER' as const,",
        '  {},',
        ');',
      ].join('\n'),
      'snippet.ts',
    );
    expect(found.sites).toEqual([
      { code: 'THROWN', file: 'snippet.ts', line: 4 },
      { code: 'BUILT_FOR_LATER', file: 'snippet.ts', line: 5 },
    ]);
    expect(found.unresolved).toEqual([]);
  });

  it('reports a construction whose code is not a literal instead of guessing it', () => {
    const found = errorSitesIn('function fail(code: ErrorCode) { throw new RebootlessError(code, {}); }', 'snippet.ts');
    expect(found.sites).toEqual([]);
    expect(found.unresolved).toEqual([{ file: 'snippet.ts', line: 1, text: 'new RebootlessError(code, {})' }]);
  });
});

describe('error catalog', () => {
  const codes = Object.keys(catalog) as ErrorCode[];
  const { sites, unresolved } = errorSitesUnder('src');
  const constructed = new Set(sites.map((s) => s.code));

  it.each(codes)('%s has a message, a hint and an exit code, and is constructed in src/', (code) => {
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
    expect(constructed.has(code), `${code} has no new RebootlessError('${code}', …) in src/`).toBe(true);
  });

  it('knows the code of every construction site in src/', () => {
    // a code passed through a variable or helper: teach test/helpers/error-sites.ts that pattern
    expect(unresolved).toEqual([]);
  });

  it('constructs only codes of the catalog', () => {
    expect(sites.filter((s) => !(s.code in catalog))).toEqual([]);
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
