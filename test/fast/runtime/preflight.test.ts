import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import { readModuleFile } from '../../../src/runtime/module-file.js';
import { lockdownMode, preflightApply } from '../../../src/runtime/preflight.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel, type FakeKernelOptions } from '../../helpers/fake-kernel.js';
import { RELEASE, livepatchModule, plainModule, signedCopy } from '../../helpers/livepatch-fixtures.js';

const refusal = async (o: FakeKernelOptions, file = livepatchModule()) => {
  const k = new FakeKernel(o);
  const e = await rejection(preflightApply(k.host, await readModuleFile(file)));
  return { code: e.code, data: e.data as Record<string, unknown>, calls: k.calls };
};

describe('preflightApply', () => {
  it('refuses without root, naming the sudo command', async () => {
    const r = await refusal({ root: false });
    expect(r.code).toBe('NOT_ROOT');
    expect(r.data.command).toBe(`sudo rebootless apply ${livepatchModule()}`);
  });

  it('refuses a kernel without /sys/kernel/livepatch', async () => {
    const r = await refusal({ livepatch: false });
    expect([r.code, r.data]).toEqual(['LIVEPATCH_UNSUPPORTED', { release: RELEASE, path: '/sys/kernel/livepatch' }]);
  });

  it('refuses a module built for another release', async () => {
    const r = await refusal({ release: '6.1.0-58-cloud-amd64' });
    expect([r.code, r.data.moduleRelease, r.data.running]).toEqual(['WRONG_RELEASE', RELEASE, '6.1.0-58-cloud-amd64']);
  });

  it('refuses a module that is loaded already, with or without its patch', async () => {
    const k = new FakeKernel();
    await applyPatch(k.host, livepatchModule(), { timeoutMs: 5000, wait: true, force: false });
    const m = await readModuleFile(livepatchModule());
    expect((await rejection(preflightApply(k.host, m))).data).toEqual({ name: 'livepatch_a', livepatch: true });
    const left = new FakeKernel({ modules: ['livepatch_a'] });
    const e = await rejection(preflightApply(left.host, m));
    expect([e.code, e.data]).toEqual(['MODULE_ALREADY_LOADED', { name: 'livepatch_a', livepatch: false }]);
  });

  it('refuses an unsigned module when signatures are enforced or the kernel is locked down', async () => {
    const enforced = await refusal({ sigEnforce: true });
    expect(enforced.code).toBe('MODULE_SIGNATURE_REQUIRED');
    expect(enforced.data.reasons).toEqual(['the kernel enforces module signatures (module.sig_enforce=1)']);
    const locked = await refusal({ sigEnforce: false, lockdown: 'integrity' });
    expect(locked.code).toBe('MODULE_SIGNATURE_REQUIRED');
    expect(locked.data.reasons).toEqual([expect.stringContaining('locked down (integrity')]);
    expect(enforced.calls).toEqual([]);
  });

  it('lets a signed module through with a note, and an unsigned one on an open kernel with the taint note', async () => {
    const k = new FakeKernel({ sigEnforce: true, lockdown: 'confidentiality' });
    expect(await lockdownMode(k.host)).toBe('confidentiality');
    expect((await preflightApply(k.host, await readModuleFile(signedCopy(livepatchModule())))).notes).toEqual(['the module is signed; the kernel loads it only if it trusts the key']);
    const open = new FakeKernel({ sigEnforce: false, lockdown: 'none' });
    expect((await preflightApply(open.host, await readModuleFile(livepatchModule()))).notes).toEqual([expect.stringContaining('taints the kernel (E)')]);
  });
});

describe('applyPatch refusals before loading', () => {
  it('refuses a module that is not a livepatch and a missing file, and never runs insmod', async () => {
    const k = new FakeKernel();
    expect((await rejection(applyPatch(k.host, plainModule(), { timeoutMs: 1000, wait: true, force: false }))).code).toBe('NOT_A_LIVEPATCH');
    const missing = await rejection(applyPatch(k.host, '/nonexistent/fix.ko', { timeoutMs: 1000, wait: true, force: false }));
    expect([missing.code, missing.exitCode]).toEqual(['MODULE_FILE_MISSING', 64]);
    expect(k.calls).toEqual([]);
  });
});
