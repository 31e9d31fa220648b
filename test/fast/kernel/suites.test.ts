import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RebootlessError } from '../../../src/errors/index.js';
import { parseMadisonIndex, parseMadisonSuites } from '../../../src/kernel/apt-parse.js';
import { aptStateFor, parseFetchedBytes, renderAptConf, renderSourcesList } from '../../../src/kernel/apt-state.js';
import { fetchableReleases } from '../../../src/kernel/fetchable.js';
import { closeReleases, familiesOfRelease, listCandidates, releaseNotFound, resolveRelease, type AptKernelIndex } from '../../../src/kernel/release.js';
import { SUITE_FAMILIES, defaultFamily, findFamilyByName, parseAbi } from '../../../src/kernel/suites.js';

// Recorded on a bookworm machine through rebootless's own apt state, one file per
// suite family: apt-cache madison over every kernel package of its lists.
const recorded = (family: string): AptKernelIndex => parseMadisonIndex(family, readFileSync(`test/fixtures/apt/madison-${family}.txt`, 'utf8'));
const bookworm = recorded('bookworm');
const backports = recorded('bookworm-backports');
const trixie = recorded('trixie');
const family = (name: string) => findFamilyByName(name) ?? expect.unreachable(`no family ${name}`);

describe('suite families', () => {
  it('maps each release name to the families that may serve it', () => {
    const names = (r: string): string[] => familiesOfRelease(r).map((f) => f.name);
    expect(names('6.1.0-57-cloud-amd64')).toEqual(['bookworm']);
    expect(names('6.1.0-54-rt-amd64')).toEqual(['bookworm']);
    // bookworm-security carries 6.12.N+deb12 (~deb12u1), bookworm-backports 6.12.N+deb12 (~bpo12)
    expect(names('6.12.95+deb12-cloud-amd64')).toEqual(['bookworm', 'bookworm-backports']);
    expect(names('6.12.117+deb13-amd64')).toEqual(['trixie']);
    expect(names('6.12.115+deb13.1-rt-amd64')).toEqual(['trixie']);
    expect(names('5.10.0-30-amd64')).toEqual([]);
    expect(names('6.18.44-fc-v669')).toEqual([]);
    expect(names('cloud-amd64')).toEqual([]);
  });

  it('splits an ABI into series and tag', () => {
    expect(parseAbi('6.1.0-57')).toEqual({ series: '6.1' });
    expect(parseAbi('6.12.115+deb13.1')).toEqual({ series: '6.12', tag: 'deb13' });
    expect(parseAbi('6.12.95+deb12')).toEqual({ series: '6.12', tag: 'deb12' });
    expect(parseAbi('x')).toBeUndefined();
  });

  it("defaults to the host's Debian family, else bookworm", () => {
    expect(defaultFamily('trixie').name).toBe('trixie');
    expect(defaultFamily('bookworm').name).toBe('bookworm');
    expect(defaultFamily('noble').name).toBe('bookworm');
    expect(defaultFamily(undefined).name).toBe('bookworm');
  });

  it('every family reads stable suites from deb.debian.org (security from debian-security) and names an example release it serves', () => {
    for (const f of SUITE_FAMILIES) {
      expect(familiesOfRelease(f.example)).toContain(f);
      for (const s of f.suites) expect(s.uri).toBe(s.suite.endsWith('-security') ? 'http://deb.debian.org/debian-security' : 'http://deb.debian.org/debian');
    }
    expect(family('trixie').suites.map((s) => s.suite)).toEqual(['trixie', 'trixie-updates', 'trixie-security']);
  });
});

describe('private apt state', () => {
  const state = aptStateFor('/c', family('trixie'));

  it('lives under the cache, one directory per family', () => {
    expect(state.dir).toBe('/c/apt/trixie');
  });

  it('sources: amd64, main only, signed by the archive keyring', () => {
    expect(renderSourcesList(family('bookworm'), '/k.gpg')).toBe(
      'deb [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian bookworm main\n' +
        'deb [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian bookworm-updates main\n' +
        'deb [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian-security bookworm-security main\n',
    );
  });

  it('apt.conf points every directory apt reads or writes inside the state, and no host file', () => {
    const conf = renderAptConf(state.dir, 'me');
    const dirs = [...conf.matchAll(/^(Dir::\S+|Dir) "([^"]*)";$/gm)].map((m) => [m[1] as string, m[2] as string]);
    for (const key of ['Dir::Etc::main', 'Dir::Etc::parts', 'Dir::Etc::sourcelist', 'Dir::Etc::sourceparts', 'Dir::Etc::preferences', 'Dir::Etc::preferencesparts', 'Dir::Etc::trusted', 'Dir::Etc::trustedparts', 'Dir::State', 'Dir::State::lists', 'Dir::State::status', 'Dir::Cache', 'Dir::Log']) {
      const v = dirs.find(([k]) => k === key)?.[1];
      expect(v, key).toMatch(/^\/c\/apt\/trixie\//);
    }
    expect(conf).toContain('Acquire::Languages "none";');
    expect(conf).toContain('APT::Architectures { "amd64"; };');
    expect(conf).toContain('APT::Update::Error-Mode "any";');
    expect(conf).not.toMatch(/"\/(etc|var)\//);
  });

  it("counts the bytes of apt-get update's Get: lines", () => {
    expect(parseFetchedBytes('Get:4 http://deb.debian.org/debian trixie/main amd64 Packages [9679 kB]')).toBe(9_679_000);
    expect(parseFetchedBytes('Get:5 http://deb.debian.org/debian trixie-updates/main amd64 Packages [1108 B]')).toBe(1108);
    expect(parseFetchedBytes('Hit:1 http://deb.debian.org/debian trixie InRelease')).toBe(0);
    expect(parseFetchedBytes('Fetched 10.2 MB in 2s (4116 kB/s)')).toBe(0);
  });
});

describe('releases of each family, from recorded apt-cache output', () => {
  it("madison's archive column gives the suite of each version", () => {
    const s = parseMadisonSuites(readFileSync('test/fixtures/apt/madison-trixie.txt', 'utf8'));
    expect(s.get('linux-source-6.12')?.get('6.12.107-1')).toBe('trixie');
    expect([...(s.get('linux-image-cloud-amd64')?.values() ?? [])]).toContain('trixie-security');
  });

  it('every amd64 flavour has complete releases, each carrying its family and suite', () => {
    for (const idx of [bookworm, backports, trixie]) {
      const all = listCandidates(idx);
      for (const flavor of ['cloud-amd64', 'amd64', 'rt-amd64']) expect(all.some((c) => c.flavor === flavor), `${idx.family} ${flavor}`).toBe(true);
      for (const c of all) {
        expect(c.family).toBe(idx.family);
        expect(idx.suites.get(c.packages.image)?.get(c.debianVersion)).toBe(c.suite);
        expect(familiesOfRelease(c.release).map((f) => f.name)).toContain(idx.family);
      }
    }
    expect(listCandidates(backports).every((c) => c.suite === 'bookworm-backports' && c.series === '6.12')).toBe(true);
    expect(listCandidates(trixie).every((c) => /\+deb13(\.\d+)?-/.test(c.release) && c.series === '6.12')).toBe(true);
  });

  it("each family's default follows its cloud-amd64 metapackage", () => {
    expect(resolveRelease(bookworm, {}).series).toBe('6.1');
    expect(resolveRelease(backports, {}).release).toMatch(/^6\.12\.\d+\+deb12-cloud-amd64$/);
    expect(resolveRelease(trixie, {})).toMatchObject({ family: 'trixie', series: '6.12', flavor: 'cloud-amd64' });
  });

  it('the list: by family, flavour, newest first, marking host and cached', () => {
    const some = listCandidates(trixie).find((c) => c.flavor === 'amd64');
    const cached = listCandidates(bookworm)[2];
    const rows = fetchableReleases([trixie, backports, bookworm], { hostRelease: some?.release, cached: new Set([cached?.release ?? '']) });
    expect(rows.length).toBe([bookworm, backports, trixie].reduce((n, i) => n + listCandidates(i).length, 0));
    expect([...new Set(rows.map((r) => r.family))]).toEqual(['bookworm', 'bookworm-backports', 'trixie']);
    for (const fam of ['bookworm', 'trixie']) {
      const flavors = rows.filter((r) => r.family === fam).map((r) => r.flavor);
      expect([...new Set(flavors)]).toEqual(['cloud-amd64', 'amd64', 'rt-amd64']);
      // grouped: a flavour's rows are contiguous
      expect(flavors.filter((f, i) => i > 0 && f !== flavors[i - 1]).length).toBe(2);
    }
    expect(rows.filter((r) => r.host).map((r) => r.release)).toEqual([some?.release]);
    expect(rows.filter((r) => r.cached).map((r) => r.release)).toEqual([cached?.release]);
    const first = rows[0];
    expect(Object.keys(first ?? {}).sort()).toEqual(['cached', 'debianVersion', 'family', 'flavor', 'host', 'release', 'series', 'suite']);
  });
});

describe('a release that cannot be fetched', () => {
  it('an ABI gone from the archive is unknown, with close releases of the same series and flavour', () => {
    const e = releaseNotFound([bookworm], '6.1.0-40-rt-amd64') as RebootlessError<'RELEASE_UNKNOWN'>;
    expect(e.code).toBe('RELEASE_UNKNOWN');
    expect(e.data.families).toEqual(['bookworm']);
    expect(e.data.available.length).toBeGreaterThan(0);
    expect(e.data.available.every((r) => /^6\.1\.0-\d+-rt-amd64$/.test(r))).toBe(true);
    expect(e.message).toContain("Debian's bookworm suites do not have it");
    expect(e.hint).toContain('rebootless kernel fetch --list');
  });

  it('a release whose -dbg or source is gone says which, and names fetchable ones of both families that serve its tag', () => {
    // the image stays listed while -dbg, headers and source of its version are gone
    const i = parseMadisonIndex('bookworm', [
      ...readFileSync('test/fixtures/apt/madison-bookworm.txt', 'utf8').split('\n'),
      'linux-image-6.12.90+deb12-cloud-amd64 | 6.12.90-1~deb12u1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages',
    ].join('\n'));
    const e = releaseNotFound([i, backports], '6.12.90+deb12-cloud-amd64') as RebootlessError<'RELEASE_INCOMPLETE'>;
    expect(e.code).toBe('RELEASE_INCOMPLETE');
    expect(e.data.missing).toEqual([
      'linux-headers-6.12.90+deb12-cloud-amd64 (= 6.12.90-1~deb12u1)',
      'linux-image-6.12.90+deb12-cloud-amd64-dbg (= 6.12.90-1~deb12u1)',
      'linux-source-6.12 (= 6.12.90-1~deb12u1)',
    ]);
    expect(e.data.available[0]).toMatch(/^6\.12\.\d+\+deb12-cloud-amd64$/);
    expect(e.data.available).toContain(listCandidates(backports).find((c) => c.flavor === 'cloud-amd64')?.release);
    expect(e.message).toContain('the Debian archive no longer serves linux-headers-6.12.90+deb12-cloud-amd64');
    expect(e.message).toContain('releases that can be fetched: 6.12.');
    expect(e.hint).toContain("'rebootless kernel fetch --list'");
  });

  it('a name of no family says what Debian release names look like', () => {
    const e = releaseNotFound([bookworm], '5.10.0-30-amd64') as RebootlessError<'RELEASE_UNKNOWN'>;
    expect(e.data.families).toEqual([]);
    expect(e.message).toContain('not a Debian kernel release rebootless can fetch');
    expect(e.data.available.every((r) => r.endsWith('-amd64') && !r.endsWith('-cloud-amd64') && !r.endsWith('-rt-amd64'))).toBe(true);
  });

  it('close releases: same series and flavour, then same flavour, then same series', () => {
    const cands = [...listCandidates(bookworm), ...listCandidates(trixie)];
    const close = closeReleases(cands, '6.1.0-1-rt-amd64', 200);
    const rank = (r: string): number => (r.startsWith('6.1.0-') ? 0 : 1) + (r.endsWith('-rt-amd64') ? 0 : 2);
    const ranks = close.map(rank);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(close.length).toBe(cands.length);
    expect(closeReleases(cands, '6.1.0-1-amd64')).toHaveLength(5);
    // an unknown series: the newest of every kernel line of the flavour first
    expect(closeReleases(cands, '9.9.9-1-cloud-amd64', 3).sort()).toEqual(
      ['6.1.0-', '+deb12-', '+deb13'].map((k) => cands.find((c) => c.release.includes(k) && c.flavor === 'cloud-amd64')?.release).sort(),
    );
  });
});
