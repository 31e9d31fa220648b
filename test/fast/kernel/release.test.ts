import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../helpers/errors.js';
import { parseControlStanza, parseDepends, parseMadisonIndex } from '../../../src/kernel/apt-parse.js';
import { listCandidates, parseReleaseName, resolveRelease, seriesOfVersion, type AptKernelIndex } from '../../../src/kernel/release.js';
import { RebootlessError } from '../../../src/errors/index.js';

// Recorded on a bookworm machine: apt-cache madison over every kernel package.
const recorded: AptKernelIndex = parseMadisonIndex('bookworm', readFileSync('test/fixtures/apt/madison-bookworm.txt', 'utf8'));

function idx(lines: string[]): AptKernelIndex {
  return parseMadisonIndex('bookworm', lines.map((l) => l.replace(/ /g, ' | ') + ' | http://x bookworm/main amd64 Packages').join('\n'));
}

const complete = (rel: string, v: string, series = '6.1'): string[] => [
  `linux-image-${rel} ${v}`,
  `linux-headers-${rel} ${v}`,
  `linux-image-${rel}-dbg ${v}`,
  `linux-source-${series} ${v}`,
];


describe('release names', () => {
  it('splits ABI and flavor', () => {
    expect(parseReleaseName('6.1.0-57-cloud-amd64')).toEqual({ release: '6.1.0-57-cloud-amd64', abi: '6.1.0-57', flavor: 'cloud-amd64' });
    expect(parseReleaseName('6.12.117+deb12-cloud-amd64')?.abi).toBe('6.12.117+deb12');
    expect(parseReleaseName('6.1.0-57-rt-amd64')?.flavor).toBe('rt-amd64');
    expect(parseReleaseName('cloud-amd64')).toBeUndefined();
    expect(seriesOfVersion('6.12.117-1~deb12u1')).toBe('6.12');
  });
});

describe('release resolution from recorded apt-cache output', () => {
  it('lists only releases with image, headers, -dbg and exact-version source', () => {
    const all = listCandidates(recorded);
    expect(all.length).toBeGreaterThan(3);
    for (const c of all) {
      for (const p of Object.values(c.packages)) expect(recorded.versions.get(p)).toContain(c.debianVersion);
    }
  });

  it('defaults to the newest cloud-amd64 release of the series the metapackage points at', () => {
    const c = resolveRelease(recorded, { hostRelease: '6.18.44-fc-v669' });
    const meta = recorded.versions.get('linux-image-cloud-amd64') ?? [];
    expect(c.flavor).toBe('cloud-amd64');
    expect(meta.map(seriesOfVersion)).toContain(c.series);
    const sameSeries = listCandidates(recorded).filter((x) => x.flavor === 'cloud-amd64' && x.series === c.series);
    expect(sameSeries[0]?.release).toBe(c.release);
  });

  it('prefers the host release when Debian has its packages', () => {
    const other = listCandidates(recorded).find((x) => x.flavor === 'cloud-amd64' && x.release !== resolveRelease(recorded, {}).release);
    expect(other).toBeDefined();
    expect(resolveRelease(recorded, { hostRelease: other?.release }).release).toBe(other?.release);
  });

  it('takes the newest version whose source exists at exactly that version', () => {
    const i = idx([
      ...complete('6.1.0-9-cloud-amd64', '6.1.50-1'),
      'linux-image-6.1.0-9-cloud-amd64 6.1.50-2',
      'linux-headers-6.1.0-9-cloud-amd64 6.1.50-2',
      'linux-image-6.1.0-9-cloud-amd64-dbg 6.1.50-2',
    ]);
    expect(resolveRelease(i, {}).debianVersion).toBe('6.1.50-1');
  });

  it('without a metapackage takes the newest release of any series', () => {
    const i = idx([...complete('6.1.0-9-cloud-amd64', '6.1.50-1'), ...complete('6.12.5+deb12-cloud-amd64', '6.12.5-1~deb12u1', '6.12')]);
    expect(resolveRelease(i, {}).release).toBe('6.12.5+deb12-cloud-amd64');
    const withMeta = idx([...complete('6.1.0-9-cloud-amd64', '6.1.50-1'), ...complete('6.12.5+deb12-cloud-amd64', '6.12.5-1~deb12u1', '6.12'), 'linux-image-cloud-amd64 6.1.50-1']);
    expect(resolveRelease(withMeta, {}).release).toBe('6.1.0-9-cloud-amd64');
  });

  it('refuses an unknown release, listing what can be fetched', () => {
    try {
      resolveRelease(recorded, { requested: '9.9.9-1-cloud-amd64' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RebootlessError);
      const err = e as RebootlessError<'RELEASE_UNKNOWN'>;
      expect(err.code).toBe('RELEASE_UNKNOWN');
      expect(err.data.available).toContain(resolveRelease(recorded, {}).release);
      expect(err.message).toContain('releases that can be fetched');
    }
  });

  it('explains a release whose packages are incomplete', () => {
    const i = idx(['linux-image-6.1.0-9-cloud-amd64 6.1.50-1', 'linux-headers-6.1.0-9-cloud-amd64 6.1.50-1']);
    expect(codeOf(() => resolveRelease(i, { requested: '6.1.0-9-cloud-amd64' }))).toBe('RELEASE_INCOMPLETE');
  });

  it('refuses when the lists know no kernel, and when no release is complete', () => {
    expect(codeOf(() => resolveRelease(parseMadisonIndex('bookworm', ''), {}))).toBe('APT_LISTS_EMPTY');
    expect(codeOf(() => resolveRelease(idx(['linux-image-6.1.0-9-cloud-amd64 6.1.50-1']), {}))).toBe('NO_DEFAULT_RELEASE');
  });
});

describe('apt-cache show parsing', () => {
  it('reads the headers package Depends with versions', () => {
    const f = parseControlStanza(readFileSync('test/fixtures/apt/show-headers.txt', 'utf8'));
    expect(f.get('Package')).toBe('linux-headers-6.1.0-57-cloud-amd64');
    const deps = parseDepends(f.get('Depends') ?? '');
    expect(deps.find((d) => d.name.endsWith('-common'))).toEqual({ name: 'linux-headers-6.1.0-57-common', relation: '=', version: '6.1.192-3' });
    expect(deps.find((d) => d.name.startsWith('linux-kbuild'))?.relation).toBe('>=');
  });

  it('takes the first alternative of a clause', () => {
    expect(parseDepends('a (= 1) | b, c')).toEqual([{ name: 'a', relation: '=', version: '1' }, { name: 'c' }]);
  });
});
