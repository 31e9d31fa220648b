import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterEach, describe, expect, it } from 'vitest';
import { buildVex, debianVersionOf, hostVex, kernelPurl, packageVersionOf } from '../../../src/fleet/vex.js';
import { applyPatch } from '../../../src/runtime/apply.js';
import { revertPatch } from '../../../src/runtime/revert.js';
import { hostStatus } from '../../../src/runtime/status.js';
import { cli } from '../../helpers/cli.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { livepatchModule, RELEASE } from '../../helpers/livepatch-fixtures.js';
import { REPO } from '../../helpers/run-cli.js';

// `rebootless status --vex`: an OpenVEX document claiming `fixed` only for the
// CVEs of patches that are live and fully transitioned, valid against the
// OpenVEX 0.2.0 JSON schema (test/fixtures/openvex, from openvex/spec).

const schema = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/openvex/openvex_json_schema.json'), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validate = ajv.compile(schema);
const valid = (doc: unknown): string => (validate(doc) ? '' : ajv.errorsText(validate.errors));

const PROC_VERSION = `Linux version ${RELEASE} (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-20)\n`;

function debianHost(k: FakeKernel): void {
  const put = (rel: string, text: string): void => {
    mkdirSync(path.dirname(path.join(k.root, rel)), { recursive: true });
    writeFileSync(path.join(k.root, rel), text);
  };
  put('proc/version', PROC_VERSION);
  put('etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n');
  put('proc/sys/kernel/hostname', 'web7\n');
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});
const now = new Date('2026-12-03T12:00:00Z');

describe('status --vex', () => {
  it('states fixed for each CVE of a live, finished patch, against the running image’s package, and leaves one in transition out', async () => {
    const k = new FakeKernel();
    debianHost(k);
    await applyPatch(k.host, livepatchModule({ replace: false }), { timeoutMs: 5000, wait: true, force: false });
    k.addTask({ comm: 'cat', stack: ['pipe_read+0x3df/0x470'] });
    await applyPatch(k.host, livepatchModule({ name: 'livepatch_b', replace: false }), { timeoutMs: 1000, wait: false, force: false });
    const { document, skipped } = await hostVex(k.host, { now, tooling: 'rebootless test' });
    expect(valid(document)).toBe('');
    const purl = `pkg:deb/debian/linux-image-${RELEASE}@6.1.192-3?arch=amd64&distro=debian-12`;
    expect(document.statements.map((s) => [s.vulnerability.name, s.status, s.products])).toEqual([
      ['CVE-2026-0001', 'fixed', [{ '@id': purl, identifiers: { purl } }]],
      ['CVE-2026-0002', 'fixed', [{ '@id': purl, identifiers: { purl } }]],
    ]);
    const applied = (await hostStatus(k.host)).patches[0]?.appliedAt;
    expect(applied).toMatch(/^\d{4}-/);
    expect(document.statements[0]).toMatchObject({ timestamp: applied });
    expect(document.statements[0]?.status_notes).toContain(`live patch livepatch_a (pipe_read and friends, fixed), applied at ${applied}`);
    expect(document).toMatchObject({ '@context': 'https://openvex.dev/ns/v0.2.0', author: 'rebootless on web7', timestamp: now.toISOString(), version: 1 });
    expect(skipped).toEqual([{ name: 'livepatch_b', reason: 'its transition is still running' }]);
  });

  it('states nothing when no patch backs a claim: reverted, forced, or without CVEs', async () => {
    const k = new FakeKernel();
    debianHost(k);
    const none = await rejection(hostVex(k.host, { now, tooling: 't' }));
    expect([none.code, none.exitCode]).toEqual(['VEX_NOTHING_TO_STATE', 3]);
    await applyPatch(k.host, livepatchModule(), { timeoutMs: 5000, wait: true, force: false });
    await revertPatch(k.host, 'livepatch_a', { timeoutMs: 5000 });
    expect((await rejection(hostVex(k.host, { now, tooling: 't' }))).code).toBe('VEX_NOTHING_TO_STATE');

    const s = await hostStatus(k.host);
    const live = { ...s, patches: [] as typeof s.patches };
    const patch = (over: object) => ({
      name: 'livepatch_x',
      state: 'enabled' as const,
      enabled: true,
      transition: { running: false, since: null, seconds: null, blockers: [], pending: 0 },
      objects: [],
      description: null,
      cves: ['CVE-2026-9'],
      replace: true,
      forced: false,
      liveCode: null,
      loadedAt: null,
      appliedAt: null,
      file: null,
      moduleTaint: 'OEK',
      installed: false,
      ...over,
    });
    const identity = { release: RELEASE, packageVersion: null, debianVersion: null, hostname: 'h' };
    const forced = await rejection(Promise.resolve().then(() => buildVex({ ...live, patches: [patch({ forced: true }), patch({ name: 'livepatch_y', cves: [] })] }, identity, { now, tooling: 't' })));
    expect(forced.message).toContain('livepatch_x: its transition was forced');
    expect(forced.message).toContain('livepatch_y: it records no CVE');
    // a patch loaded without rebootless's times is still stated, with the time said unknown; no package version: a purl without one
    const { document } = buildVex({ ...live, patches: [patch({})] }, identity, { now, tooling: 't' });
    expect(valid(document)).toBe('');
    expect(document.statements[0]?.products[0]?.['@id']).toBe(`pkg:deb/debian/linux-image-${RELEASE}?arch=amd64`);
    expect(document.statements[0]?.status_notes).toContain('applied at an unknown time');
  });

  it('the CLI prints the document and says on stderr what it left out; it refuses a patch name or --json', async () => {
    const k = new FakeKernel();
    debianHost(k);
    await applyPatch(k.host, livepatchModule(), { timeoutMs: 5000, wait: true, force: false });
    process.env.REBOOTLESS_HOST_ROOT = k.root;
    process.env.REBOOTLESS_HOST_RELEASE = RELEASE;
    const r = await cli(['status', '--vex']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { statements: { vulnerability: { name: string } }[]; tooling: string };
    expect(valid(doc)).toBe('');
    expect(doc.statements.map((s) => s.vulnerability.name)).toEqual(['CVE-2026-0001', 'CVE-2026-0002']);
    expect(doc.tooling).toMatch(/^rebootless \d+\.\d+\.\d+/);
    expect((await cli(['status', 'livepatch_a', '--vex'])).code).toBe(64);
    expect((await cli(['status', '--vex', '--json'])).code).toBe(64);
  });

  it('reads the package version from /proc/version and Debian’s release from os-release', () => {
    expect(packageVersionOf(PROC_VERSION)).toBe('6.1.192-3');
    expect(packageVersionOf('#1 SMP PREEMPT_DYNAMIC Debian 6.12.57+deb13-1 (2025-11-05)')).toBe('6.12.57+deb13-1');
    expect(packageVersionOf('Linux version 6.8.0 #1 SMP')).toBeNull();
    expect(debianVersionOf('ID=debian\nVERSION_ID="13"\n')).toBe('13');
    expect(debianVersionOf('ID=ubuntu\nVERSION_ID="24.04"\n')).toBeNull();
    expect(kernelPurl({ release: '6.12.57+deb13-amd64', packageVersion: '6.12.57+deb13-1', debianVersion: '13', hostname: 'h' })).toBe(
      'pkg:deb/debian/linux-image-6.12.57+deb13-amd64@6.12.57+deb13-1?arch=amd64&distro=debian-13',
    );
  });
});
