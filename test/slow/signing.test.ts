import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { Vm } from '../../src/vm/session.js';
import { patchBuilder, tryModule } from '../helpers/build-and-try.js';
import { makeSigner } from '../helpers/module-signing.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// Module signing on the real release: build --sign-key/--sign-cert signs with
// the tree's own scripts/sign-file, and OpenSSL verifies the signature with the
// certificate; in a guest booted with module.sig_enforce=1 the kernel rejects
// the unsigned module and the one signed by a key it does not hold, and apply
// says so up front, naming the signer; without enforcement the signed patch
// works like any other.

let ws: KernelWorkspace;
const { out, build } = patchBuilder('rb-sign-', () => ws.release);
const signer = makeSigner('rebootless signing test');
let unsigned = '';
let signed = '';

beforeAll(async () => {
  ws = await defaultWorkspace();
  const u = await build('examples/cmdline.patch', 'cmdline');
  expect(u.code, u.stderr).toBe(0);
  unsigned = u.ko;
  const s = await build('examples/cmdline.patch', 'cmdline_signed', ['--sign-key', signer.key, '--sign-cert', signer.cert]);
  expect(s.code, s.stderr).toBe(0);
  expect(s.stdout).toContain(`signed   by CN=rebootless signing test (key id ${signer.keyId}, sha256); checked against the certificate`);
  signed = s.ko;
}, 600_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('signed live patches', () => {
  it('the signature sign-file appended verifies with the certificate (OpenSSL), over the module as built', () => {
    const bytes = readFileSync(signed);
    const magic = '~Module signature appended~\n';
    expect(bytes.subarray(bytes.length - magic.length).toString()).toBe(magic);
    const trailer = bytes.length - magic.length - 12;
    const sigLen = bytes.readUInt32BE(trailer + 8);
    const body = path.join(out, 'body');
    const p7 = path.join(out, 'sig.p7');
    writeFileSync(body, bytes.subarray(0, trailer - sigLen));
    writeFileSync(p7, bytes.subarray(trailer - sigLen, trailer));
    const ok = execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p7, '-content', body, '-certfile', signer.cert, '-nointern', '-noverify', '-out', '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ok).toBe('');
    // tampered content does not verify
    const bad = Buffer.from(readFileSync(body));
    bad[200] = (bad[200] ?? 0) ^ 0xff;
    writeFileSync(body, bad);
    expect(() => execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p7, '-content', body, '-certfile', signer.cert, '-nointern', '-noverify', '-out', '/dev/null'], { stdio: 'pipe' })).toThrow();
  });

  it('under module.sig_enforce=1: the kernel rejects both modules, and apply refuses each up front saying why', async () => {
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache(), withCli: true, kernelArgs: ['module.sig_enforce=1'] });
    try {
      await vm.copyIn(unsigned, '/root/unsigned.ko');
      await vm.copyIn(signed, '/root/signed.ko');
      expect((await vm.run('cat /sys/module/module/parameters/sig_enforce')).output.trim()).toBe('Y');
      const plain = await vm.run('rebootless apply /root/unsigned.ko');
      expect(plain.exitCode).toBe(1);
      expect(plain.output).toContain('it is not signed and the kernel enforces module signatures (module.sig_enforce=1)');
      const mine = await vm.run('rebootless apply /root/signed.ko');
      expect(mine.exitCode).toBe(1);
      expect(mine.output).toContain(`it is signed by key id ${signer.keyId}, which is not among the kernel's keys`);
      expect(mine.output).toContain('mokutil --import');
      // what the kernel itself does with them: the explanation matches
      for (const ko of ['unsigned', 'signed']) {
        const raw = await vm.run(`insmod /root/${ko}.ko`);
        expect(raw.exitCode, ko).not.toBe(0);
        expect(raw.output, ko).toMatch(/Key was rejected by service/);
      }
      expect((await vm.run('cut -d" " -f1 /proc/cmdline')).output.trim()).toBe('console=ttyS0');
    } finally {
      expect((await vm.stop()).trouble).toEqual([]);
    }
  });

  it('without enforcement the signed patch applies, changes the behaviour and reverts', async () => {
    const t = await tryModule(ws.release, signed, 'cut -d" " -f1 /proc/cmdline');
    expect(t.code).toBe(0);
    expect(t.step('check-before')).toBe('console=ttyS0');
    expect(t.step('check-patched')).toBe('rebootless-patched');
    expect(t.step('check-after')).toBe('console=ttyS0');
  });
});
