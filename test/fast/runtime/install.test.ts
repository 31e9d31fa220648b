import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import { installPatch, listInstalled, renderUnit, uninstallPatch } from '../../../src/runtime/install.js';
import { hostStatus } from '../../../src/runtime/status.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { RELEASE, livepatchModule } from '../../helpers/livepatch-fixtures.js';

const COMMAND = ['/usr/bin/node', '/opt/my tools/main.js', 'load-installed'];

describe('renderUnit', () => {
  it('runs the command at boot, quoted for systemd, when the release has patches installed', () => {
    const unit = renderUnit(COMMAND);
    expect(unit).toContain('\nExecStart=/usr/bin/node "/opt/my tools/main.js" load-installed\n');
    expect(unit).toContain('\nConditionPathIsDirectory=/var/lib/rebootless/%v\n');
    expect(unit).toContain('\nType=oneshot\nRemainAfterExit=yes\n');
    expect(unit.endsWith('[Install]\nWantedBy=multi-user.target\n')).toBe(true);
    expect(renderUnit(['/bin/x', 'a"b\\c'])).toContain('ExecStart=/bin/x "a\\"b\\\\c"\n');
  });
});

describe('installPatch / uninstallPatch / listInstalled', () => {
  it('warns when the unit would run a rebootless from a temporary npx cache', async () => {
    const k = new FakeKernel();
    const r = await installPatch(k.host, livepatchModule(), ['/usr/bin/node', '/root/.npm/_npx/1234/node_modules/rebootless/dist/cli/main.js', 'load-installed']);
    expect(r.warnings).toEqual([expect.stringMatching(/temporary place; install rebootless for good/)]);
  });

  it('keeps the module per release in stacking order, with one unit wanted by multi-user.target', async () => {
    const k = new FakeKernel();
    const etc = path.join(k.root, 'etc/systemd/system');
    const a = await installPatch(k.host, livepatchModule(), COMMAND);
    const dir = path.join(k.root, 'var/lib/rebootless', RELEASE);
    expect(a).toMatchObject({ name: 'livepatch_a', release: RELEASE, file: path.join(dir, 'livepatch_a.ko'), order: ['livepatch_a'], unit: path.join(etc, 'rebootless.service'), reloaded: false, warnings: [] });
    expect(readFileSync(a.file).equals(readFileSync(livepatchModule()))).toBe(true);
    expect(readFileSync(a.unit, 'utf8')).toBe(renderUnit(COMMAND));
    expect(readlinkSync(path.join(etc, 'multi-user.target.wants/rebootless.service'))).toBe('/etc/systemd/system/rebootless.service');

    await installPatch(k.host, livepatchModule({ name: 'livepatch_b' }), COMMAND);
    expect((await installPatch(k.host, livepatchModule(), COMMAND)).order).toEqual(['livepatch_b', 'livepatch_a']);
    expect(readFileSync(path.join(dir, 'order'), 'utf8')).toBe('livepatch_b\nlivepatch_a\n');
    expect(await listInstalled(k.host)).toEqual([
      { release: RELEASE, name: 'livepatch_b', file: path.join(dir, 'livepatch_b.ko'), position: 1 },
      { release: RELEASE, name: 'livepatch_a', file: path.join(dir, 'livepatch_a.ko'), position: 2 },
    ]);

    expect(await uninstallPatch(k.host, 'livepatch-a', RELEASE)).toEqual({ name: 'livepatch_a', release: RELEASE, unitRemoved: false });
    expect([existsSync(a.file), existsSync(a.unit)]).toEqual([false, true]);
    expect(await uninstallPatch(k.host, 'livepatch_b', RELEASE)).toEqual({ name: 'livepatch_b', release: RELEASE, unitRemoved: true });
    expect([existsSync(dir), existsSync(a.unit), existsSync(path.join(etc, 'multi-user.target.wants/rebootless.service'))]).toEqual([false, false, false]);
    expect(await listInstalled(k.host)).toEqual([]);
  });

  it('marks an applied patch installed in the status', async () => {
    const k = new FakeKernel();
    await applyPatch(k.host, livepatchModule(), { timeoutMs: 5000, wait: true, force: false });
    expect((await hostStatus(k.host)).patches[0]?.installed).toBe(false);
    await installPatch(k.host, livepatchModule(), COMMAND);
    const s = await hostStatus(k.host);
    expect([s.patches[0]?.installed, s.installed.map((i) => i.name)]).toEqual([true, ['livepatch_a']]);
  });

  it('refuses to uninstall what is not installed, and to install without root', async () => {
    const k = new FakeKernel();
    await installPatch(k.host, livepatchModule(), COMMAND);
    const e = await rejection(uninstallPatch(k.host, 'nope', RELEASE));
    expect([e.code, e.data]).toEqual(['NOT_INSTALLED', { name: 'nope', release: RELEASE, installed: [`livepatch_a (${RELEASE})`] }]);
    expect((await rejection(uninstallPatch(k.host, 'livepatch_a', '6.1.0-1-cloud-amd64'))).code).toBe('NOT_INSTALLED');
    k.isRoot = false;
    expect((await rejection(installPatch(k.host, livepatchModule({ name: 'livepatch_b' }), COMMAND))).code).toBe('NOT_ROOT');
  });
});
