import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import { installPatch } from '../../../src/runtime/install.js';
import { cli } from '../../helpers/cli.js';
import { FakeKernel } from '../../helpers/fake-kernel.js';
import { RELEASE, livepatchModule } from '../../helpers/livepatch-fixtures.js';

// The live commands on a fake tree (REBOOTLESS_HOST_ROOT). Only commands that
// read, or refuse before touching the kernel: the CLI's host runs real insmod.

const saved = { ...process.env };
let k: FakeKernel;

beforeEach(async () => {
  k = new FakeKernel({ modules: ['ext4'] });
  await applyPatch(k.host, livepatchModule(), { timeoutMs: 5000, wait: true, force: false });
  process.env.REBOOTLESS_HOST_ROOT = k.root;
  process.env.REBOOTLESS_HOST_RELEASE = RELEASE;
});
afterEach(() => {
  process.env = { ...saved };
});

/** Were the refusal under test gone, preflight would still stop apply before the real insmod. */
const guardAgainstLoading = (): void => {
  process.env.REBOOTLESS_HOST_RELEASE = '0.0.0-not-the-fixture-release';
};

const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe('live commands on a fake host', () => {
  it('list --json prints the status schema with the loaded patch; list prints a table', async () => {
    const r = await cli(['list', '--json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ schema: 'rebootless.status/1', release: RELEASE, livepatch: true, taint: { mask: 45056 }, patches: [{ name: 'livepatch_a', state: 'enabled', moduleTaint: 'OEK' }] });
    const t = await cli(['list']);
    expect(t.stdout.split('\n')[1]).toMatch(/^livepatch_a +enabled +4 +CVE-2026-0001,CVE-2026-0002 +pipe_read and friends, fixed$/);
  });

  it('status NAME --json refuses an unknown patch with PATCH_NOT_LOADED, and shows a known one', async () => {
    const r = await cli(['status', 'nope', '--json']);
    expect(r.code).toBe(1);
    expect(json(r.stdout).error).toMatchObject({ code: 'PATCH_NOT_LOADED', data: { name: 'nope', loaded: ['livepatch_a'] } });
    const ok = await cli(['status', 'livepatch-a']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('\nlivepatch_a: enabled\n');
    expect(ok.stdout).toContain('\n  vmlinux: cmdline_proc_show,2, meminfo_proc_show, pipe_read\n');
  });

  it('installed --json lists what is installed for boot', async () => {
    expect(json((await cli(['installed', '--json'])).stdout)).toEqual({ installed: [] });
    await installPatch(k.host, livepatchModule(), ['rebootless', 'load-installed']);
    const r = await cli(['installed', '--json']);
    expect(json(r.stdout)).toEqual({ installed: [{ release: RELEASE, name: 'livepatch_a', file: `${k.root}/var/lib/rebootless/${RELEASE}/livepatch_a.ko`, position: 1 }] });
  });

  it('apply --force without its confirmation flag is a usage error (64), before anything is loaded', async () => {
    guardAgainstLoading();
    const r = await cli(['apply', livepatchModule({ name: 'livepatch_b' }), '--force', '--json']);
    expect(r.code).toBe(64);
    expect(json(r.stdout).error).toMatchObject({ code: 'FORCE_NOT_CONFIRMED', exitCode: 64 });
    expect(r.stderr).not.toContain('loading');
  });

  it('apply with a bad --timeout is a usage error naming the value', async () => {
    guardAgainstLoading();
    const r = await cli(['apply', livepatchModule({ name: 'livepatch_b' }), '--timeout', 'soon', '--json']);
    expect(r.code).toBe(64);
    expect(json(r.stdout).error).toMatchObject({ code: 'USAGE', data: { detail: expect.stringContaining("not 'soon'") } });
    expect((await cli(['apply', livepatchModule({ name: 'livepatch_b' }), '--timeout', '0s'])).code).toBe(64);
  });
});
