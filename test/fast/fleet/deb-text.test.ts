import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { patchPackageName, renderControl, renderPostinst, renderPrerm, renderSelfWrapper, validDebianVersion, versionFromTime } from '../../../src/fleet/deb-text.js';
import { tempDir } from '../../helpers/tmp.js';

// The text of the Debian packages: names, versions, control files, and the
// maintainer scripts, run by /bin/sh with a stand-in `rebootless` that logs
// what it is asked to do.

const script = { name: 'livepatch_cmdline', release: '6.1.0-57-cloud-amd64', file: '/usr/lib/rebootless/patches/6.1.0-57-cloud-amd64/livepatch_cmdline.ko' };

/** Runs a maintainer script with `rebootless` and `uname` stand-ins on PATH; returns the rebootless calls, one per line. */
function runScript(text: string, arg: string, unameR: string): { code: number; calls: string[] } {
  const dir = tempDir('rbl-debscript-');
  const log = path.join(dir, 'calls');
  writeFileSync(log, '');
  const stub = (name: string, body: string): void => {
    writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(dir, name), 0o755);
  };
  stub('rebootless', `echo "$*" >> ${log}`);
  stub('uname', `echo ${unameR}`);
  writeFileSync(path.join(dir, 'script'), text);
  const r = spawnSync('/bin/sh', [path.join(dir, 'script'), arg], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
  return { code: r.status ?? -1, calls: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** The script with its tests for a live patch (/sys/kernel/livepatch/NAME) and an installed one (/var/lib/rebootless/…) pointed at `/`, which exists. */
const present = (text: string): string => text.replace(/\/sys\/kernel\/livepatch\/\S+ \]/g, '/ ]').replace(/\/var\/lib\/rebootless\/\S+ \]/g, '/ ]');

describe('Debian package text', () => {
  it('names a patch package rebootless-livepatch-NAME without a second "livepatch", in Debian’s alphabet', () => {
    expect(patchPackageName('livepatch_cmdline')).toBe('rebootless-livepatch-cmdline');
    expect(patchPackageName('fix_CVE_2024_1234')).toBe('rebootless-livepatch-fix-cve-2024-1234');
    expect(patchPackageName('livepatch-ext4')).toBe('rebootless-livepatch-ext4');
  });

  it('accepts Debian versions and refuses what dpkg would', () => {
    for (const v of ['1.0', '0.20261203231600', '2~fix1', '1:1.2-3', '1.0+deb12u1']) expect(validDebianVersion(v), v).toBe(true);
    for (const v of ['', 'v1', '1.0 beta', '1.0-', '1_0', '-1']) expect(validDebianVersion(v), v).toBe(false);
    expect(versionFromTime(new Date('2026-12-03T23:16:21.500Z'))).toBe('0.20261203231621');
    // later builds sort higher, as dpkg sees it
    const older = versionFromTime(new Date('2026-12-03T23:16:21Z'));
    const newer = versionFromTime(new Date('2026-12-04T00:00:00Z'));
    expect(spawnSync('dpkg', ['--compare-versions', newer, 'gt', older]).status).toBe(0);
  });

  it('writes a control file dpkg-deb accepts, with the long description folded and blank lines as " ."', () => {
    const text = renderControl({
      package: 'rebootless-livepatch-cmdline',
      version: '1.0',
      architecture: 'amd64',
      depends: ['linux-image-6.1.0-57-cloud-amd64', 'rebootless'],
      maintainer: 'rebootless <root@localhost>',
      section: 'kernel',
      description: ['live patch livepatch_cmdline', 'First line.', '', 'After a blank.'],
      installedSizeKb: 12,
    });
    expect(text).toContain('Depends: linux-image-6.1.0-57-cloud-amd64, rebootless\n');
    expect(text).toContain('Description: live patch livepatch_cmdline\n First line.\n .\n After a blank.\n');
    const stage = tempDir('rbl-control-');
    execFileSync('mkdir', ['-p', path.join(stage, 'DEBIAN')]);
    writeFileSync(path.join(stage, 'DEBIAN/control'), text);
    const deb = path.join(tempDir('rbl-control-out-'), 'x.deb');
    execFileSync('dpkg-deb', ['--root-owner-group', '--build', stage, deb], { stdio: 'pipe' });
    expect(execFileSync('dpkg-deb', ['-f', deb, 'Package', 'Installed-Size'], { encoding: 'utf8' })).toBe('Package: rebootless-livepatch-cmdline\nInstalled-Size: 12\n');
  });

  it('postinst configure installs for boot always, and applies only when the patch’s release runs', () => {
    const text = renderPostinst(script);
    expect(spawnSync('/bin/sh', ['-n', '-c', text]).status).toBe(0);
    const same = runScript(text, 'configure', script.release);
    expect(same.code).toBe(0);
    expect(same.calls).toEqual([`install ${script.file}`, `apply ${script.file}`]);
    const other = runScript(text, 'configure', '6.1.0-55-cloud-amd64');
    expect(other.calls).toEqual([`install ${script.file}`]);
    expect(runScript(text, 'abort-upgrade', script.release).calls).toEqual([]);
    // an older build of the same patch is live: reverted first
    expect(runScript(present(text), 'configure', script.release).calls).toEqual([`install ${script.file}`, 'revert livepatch_cmdline', `apply ${script.file}`]);
  });

  it('postinst fails when the apply fails, so apt reports the host', () => {
    const failing = renderPostinst(script).replace('set -e', 'set -e\nrebootless() { [ "$1" = apply ] && return 1; return 0; }');
    expect(runScript(failing, 'configure', script.release).code).not.toBe(0);
  });

  it('prerm remove reverts only a live patch and uninstalls only an installed one; an upgrade leaves both', () => {
    const text = renderPrerm(script);
    expect(spawnSync('/bin/sh', ['-n', '-c', text]).status).toBe(0);
    // on this host neither /sys/kernel/livepatch/livepatch_cmdline nor /var/lib/rebootless/… exists
    expect(runScript(text, 'remove', script.release)).toEqual({ code: 0, calls: [] });
    const probe = present(text);
    expect(runScript(probe, 'remove', script.release).calls).toEqual(['revert livepatch_cmdline', `uninstall livepatch_cmdline --kernel ${script.release}`]);
    expect(runScript(probe, 'upgrade', script.release).calls).toEqual([]);
  });

  it('the self wrapper runs the bundled CLI with node', () => {
    expect(renderSelfWrapper()).toBe('#!/bin/sh\nexec node /usr/lib/rebootless/dist/bin/rebootless.js "$@"\n');
  });
});
