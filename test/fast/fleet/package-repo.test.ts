import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoAdd } from '../../../src/fleet/apt-repo.js';
import { packagePatch, packageSelf } from '../../../src/fleet/package.js';
import { rejection } from '../../helpers/errors.js';
import { livepatchModule, RELEASE } from '../../helpers/livepatch-fixtures.js';
import { runCliProcess } from '../../helpers/run-cli.js';
import { tempDir } from '../../helpers/tmp.js';

// Real packages from dpkg-deb and a real reprepro repository signed with a
// throwaway key: what apt on a host would see (the guests install them in
// test/slow/fleet.test.ts).

const deb = (file: string, ...args: string[]): string => execFileSync('dpkg-deb', [...args, file], { encoding: 'utf8' });

describe('rebootless package', () => {
  it('a patch package holds the module for its exact release, depends on that image, and runs rebootless from its scripts', async () => {
    const ko = livepatchModule({ name: 'livepatch_pkgtest' });
    const out = tempDir('rbl-pkg-');
    const r = await packagePatch({ ko, outDir: out, version: '1.2' });
    expect(path.basename(r.file)).toBe('rebootless-livepatch-pkgtest_1.2_amd64.deb');
    expect(readdirSync(out)).toEqual([path.basename(r.file)]);
    expect(deb(r.file, '-f').split('\n')).toEqual(
      expect.arrayContaining(['Package: rebootless-livepatch-pkgtest', 'Version: 1.2', 'Architecture: amd64', `Depends: linux-image-${RELEASE}, rebootless`]),
    );
    const files = deb(r.file, '-c');
    expect(files).toMatch(new RegExp(`-rw-r--r-- root/root\\s+${readFileSync(ko).length} .* \\./usr/lib/rebootless/patches/${RELEASE}/livepatch_pkgtest\\.ko`));
    const control = tempDir('rbl-pkg-ctl-');
    execFileSync('dpkg-deb', ['-e', r.file, control]);
    expect(readFileSync(path.join(control, 'postinst'), 'utf8')).toContain(`rebootless apply /usr/lib/rebootless/patches/${RELEASE}/livepatch_pkgtest.ko`);
    expect(readFileSync(path.join(control, 'prerm'), 'utf8')).toContain('rebootless revert livepatch_pkgtest');
    // the module inside is byte for byte the one given
    const root = tempDir('rbl-pkg-x-');
    execFileSync('dpkg-deb', ['-x', r.file, root]);
    expect(readFileSync(path.join(root, `usr/lib/rebootless/patches/${RELEASE}/livepatch_pkgtest.ko`)).equals(readFileSync(ko))).toBe(true);
  });

  it('refuses a version dpkg would refuse, and a module that is not a live patch, writing nothing', async () => {
    const out = tempDir('rbl-pkg-bad-');
    expect((await rejection(packagePatch({ ko: livepatchModule(), outDir: out, version: 'v1' }))).code).toBe('PACKAGE_VERSION_INVALID');
    const notKo = path.join(out, 'x.ko');
    writeFileSync(notKo, 'not an ELF');
    expect((await rejection(packagePatch({ ko: notKo, outDir: out }))).code).toBe('ELF_NOT_ELF');
    expect(readdirSync(out)).toEqual(['x.ko']);
  });

  it('--self packages the bundled CLI, its decoder and a /usr/bin/rebootless that runs on the host’s node', async () => {
    const out = tempDir('rbl-pkg-self-');
    const r = await packageSelf({ outDir: out, version: '0.1.0' });
    expect(path.basename(r.file)).toBe('rebootless_0.1.0_all.deb');
    expect(deb(r.file, '-f')).toContain('Depends: nodejs (>= 18), kmod');
    const root = tempDir('rbl-pkg-self-x-');
    execFileSync('dpkg-deb', ['-x', r.file, root]);
    // the wrapper runs the installed bundle: run that bundle from where it was unpacked
    expect(readFileSync(path.join(root, 'usr/bin/rebootless'), 'utf8')).toContain('exec node /usr/lib/rebootless/dist/bin/rebootless.js');
    expect(deb(r.file, '-c')).toMatch(/-rwxr-xr-x root\/root .* \.\/usr\/bin\/rebootless\n/);
    const bundled = spawnSync('node', [path.join(root, 'usr/lib/rebootless/dist/bin/rebootless.js'), 'status', '--help'], { encoding: 'utf8' });
    expect(bundled.status, bundled.stderr).toBe(0);
    expect(bundled.stdout).toContain('Usage: rebootless status');
    expect(readdirSync(path.join(root, 'usr/lib/rebootless/node_modules/iced-x86'))).toContain('package.json');
  });

  it('the CLI says what it made, and refuses a module and --self together', async () => {
    const out = tempDir('rbl-pkg-cli-');
    const ok = await runCliProcess(['package', livepatchModule({ name: 'livepatch_clitest' }), '--version', '3', '--out', out, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ package: 'rebootless-livepatch-clitest', version: '3', patch: { name: 'livepatch_clitest', release: RELEASE } });
    const both = await runCliProcess(['package', livepatchModule(), '--self']);
    expect(both.code).toBe(64);
    expect(both.stderr).toContain('either a module or --self');
  });
});

describe('rebootless repo add', () => {
  let gnupg = '';
  let fpr = '';
  let debs: string[] = [];

  beforeAll(async () => {
    gnupg = tempDir('rbl-gnupg-');
    execFileSync('gpg', ['--homedir', gnupg, '--batch', '--passphrase', '', '--quick-gen-key', 'rebootless test <test@example.invalid>', 'ed25519', 'sign', 'never'], { stdio: 'pipe' });
    fpr = /^fpr:+([0-9A-F]+):/m.exec(execFileSync('gpg', ['--homedir', gnupg, '--with-colons', '--list-secret-keys'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))?.[1] ?? '';
    const out = tempDir('rbl-repo-debs-');
    debs = [(await packagePatch({ ko: livepatchModule({ name: 'livepatch_repotest' }), outDir: out, version: '1.0' })).file];
  });

  it('makes a reprepro repository whose Release is signed by the key it exports beside it', async () => {
    const repo = path.join(tempDir('rbl-repo-'), 'apt');
    const r = await repoAdd({ repo, debs, keyId: fpr, suite: 'bookworm', gnupgHome: gnupg });
    expect(r.added).toEqual([{ file: debs[0], package: 'rebootless-livepatch-repotest', version: '1.0' }]);
    expect(r.sourcesLine).toBe('deb [signed-by=/usr/share/keyrings/rebootless-archive.gpg] URL bookworm main');
    const packages = readFileSync(path.join(repo, 'dists/bookworm/main/binary-amd64/Packages'), 'utf8');
    expect(packages).toMatch(/^Package: rebootless-livepatch-repotest$/m);
    expect(packages).toMatch(/^Filename: pool\/main\/r\/rebootless-livepatch-repotest\/rebootless-livepatch-repotest_1\.0_amd64\.deb$/m);
    // what apt does with signed-by=: only the exported key verifies the InRelease
    const v = spawnSync('gpgv', ['--keyring', r.keyring, path.join(repo, 'dists/bookworm/InRelease')], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    const other = tempDir('rbl-gnupg-other-');
    execFileSync('gpg', ['--homedir', other, '--batch', '--passphrase', '', '--quick-gen-key', 'someone else <x@example.invalid>', 'ed25519', 'sign', 'never'], { stdio: 'pipe' });
    const otherRing = path.join(other, 'other.gpg');
    execFileSync('gpg', ['--homedir', other, '--batch', '--output', otherRing, '--export']);
    expect(spawnSync('gpgv', ['--keyring', otherRing, path.join(repo, 'dists/bookworm/InRelease')]).status).not.toBe(0);
  });

  it('adds a second suite and a newer version to the same repository; the same version with other content is refused', async () => {
    const repo = path.join(tempDir('rbl-repo2-'), 'apt');
    await repoAdd({ repo, debs, keyId: fpr, suite: 'bookworm', gnupgHome: gnupg });
    await repoAdd({ repo, debs, keyId: fpr, suite: 'trixie', gnupgHome: gnupg });
    expect(readFileSync(path.join(repo, 'conf/distributions'), 'utf8').match(/^Codename: /gm)).toHaveLength(2);
    const newer = await packagePatch({ ko: livepatchModule({ name: 'livepatch_repotest' }), outDir: tempDir('rbl-repo-newer-'), version: '1.1' });
    await repoAdd({ repo, debs: [newer.file], keyId: fpr, suite: 'bookworm', gnupgHome: gnupg });
    expect(readFileSync(path.join(repo, 'dists/bookworm/main/binary-amd64/Packages'), 'utf8')).toMatch(/^Version: 1\.1$/m);
    const clash = await packagePatch({ ko: livepatchModule({ name: 'livepatch_repotest', replace: false }), outDir: tempDir('rbl-repo-clash-'), version: '1.1' });
    const e = await rejection(repoAdd({ repo, debs: [clash.file], keyId: fpr, suite: 'bookworm', gnupgHome: gnupg }));
    expect(e.code).toBe('REPO_FAILED');
    expect(e.message).toContain('reprepro includedeb bookworm');
  });

  it('refuses an unknown key, a file that is not a package, and a folder that is not a repository, before writing', async () => {
    const dir = tempDir('rbl-repo-bad-');
    const repo = path.join(dir, 'apt');
    expect((await rejection(repoAdd({ repo, debs, keyId: 'nobody@example.invalid', suite: 'bookworm', gnupgHome: gnupg }))).code).toBe('REPO_KEY_UNKNOWN');
    const junk = path.join(dir, 'junk.deb');
    writeFileSync(junk, 'junk');
    expect((await rejection(repoAdd({ repo, debs: [junk], keyId: fpr, suite: 'bookworm', gnupgHome: gnupg }))).code).toBe('REPO_NOT_A_DEB');
    const full = path.join(dir, 'full');
    mkdirSync(full);
    writeFileSync(path.join(full, 'index.html'), '');
    expect((await rejection(repoAdd({ repo: full, debs, keyId: fpr, suite: 'bookworm', gnupgHome: gnupg }))).code).toBe('REPO_NOT_REPREPRO');
    expect((await rejection(repoAdd({ repo, debs, keyId: fpr, suite: 'Bad Suite', gnupgHome: gnupg }))).code).toBe('USAGE');
    expect(readdirSync(dir).sort()).toEqual(['full', 'junk.deb']);
  });
});
