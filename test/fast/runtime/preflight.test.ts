import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../../src/runtime/apply.js';
import { readModuleFile } from '../../../src/runtime/module-file.js';
import { lockdownMode, parseProcKeys, preflightApply } from '../../../src/runtime/preflight.js';
import { rejection } from '../../helpers/errors.js';
import { FakeKernel, type FakeKernelOptions } from '../../helpers/fake-kernel.js';
import { RELEASE, livepatchModule, plainModule, signedCopy } from '../../helpers/livepatch-fixtures.js';
import { makeSigner, signWith } from '../../helpers/module-signing.js';
import { tempDir } from '../../helpers/tmp.js';

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
    expect((await preflightApply(k.host, await readModuleFile(signedCopy(livepatchModule())))).notes).toEqual([
      'the module is signed by a signature rebootless cannot read; the kernel loads it only if it trusts that key (/proc/keys does not tell here)',
    ]);
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

describe('a signed module where signatures are required', () => {
  const signer = makeSigner('fleet patches');
  const file = path.join(tempDir('rbl-preflight-sig-'), 'livepatch_a.ko');
  signWith(signer, livepatchModule(), { out: file });
  const keysLine = (desc: string): string => `2cfe1360 I------     1 perm 1f030000     0     0 asymmetri ${desc}: X509.rsa d6558ab1 []`;
  const withKeys = (lines: string[]): FakeKernel => {
    const k = new FakeKernel({ sigEnforce: true });
    writeFileSync(path.join(k.root, 'proc/keys'), `11e18a15 I------     2 perm 1f0b0000     0     0 keyring   .builtin_trusted_keys: 1\n${lines.join('\n')}\n`);
    return k;
  };

  it('reads the kernel’s asymmetric keys from /proc/keys', () => {
    expect(parseProcKeys(`${keysLine('Build time autogenerated kernel key: 8d02af3b9f75dd230deaf4e6abfbf08bd6558ab1')}\n1402d1ab I------     2 perm 1f0b0000     0     0 keyring   .machine: empty\n`)).toEqual([
      { description: 'Build time autogenerated kernel key: 8d02af3b9f75dd230deaf4e6abfbf08bd6558ab1', keyId: '8d02af3b9f75dd230deaf4e6abfbf08bd6558ab1' },
    ]);
  });

  it('refuses up front, naming the signer and the keys the kernel holds, when the signer is not among them', async () => {
    const k = withKeys([keysLine('Build time autogenerated kernel key: 8d02af3b9f75dd230deaf4e6abfbf08bd6558ab1')]);
    const e = await rejection(preflightApply(k.host, await readModuleFile(file)));
    expect(e.code).toBe('MODULE_SIGNER_UNTRUSTED');
    expect(e.message).toContain(`signed by key id ${signer.keyId}, which is not among the kernel's keys (Build time autogenerated kernel key: 8d02af3b`);
    expect(e.hint).toContain('mokutil --import');
    expect(k.calls).toEqual([]);
  });

  it('lets it through, saying which key, when the kernel holds the signer’s key', async () => {
    const k = withKeys([keysLine(`fleet patches: ${signer.keyId}`)]);
    expect((await preflightApply(k.host, await readModuleFile(file))).notes[0]).toBe(`the module is signed by key id ${signer.keyId}, a key the kernel holds (fleet patches: ${signer.keyId})`);
  });
});
