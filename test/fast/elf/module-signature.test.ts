import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModuleSignature } from '../../../src/elf/module-signature.js';
import { checkSignature } from '../../../src/pipeline/sign.js';
import { livepatchModule } from '../../helpers/livepatch-fixtures.js';
import { makeSigner, signWith } from '../../helpers/module-signing.js';
import { tempDir } from '../../helpers/tmp.js';

// The appended module signature, made here as scripts/sign-file makes it
// (OpenSSL CMS: detached, binary, no signed attributes, no certificates, the
// signer named by key id or by issuer and serial), read back without OpenSSL
// and checked against the certificate.

const dir = tempDir('rbl-modsig-');
const signer = makeSigner('rebootless test signer');
const { cert } = signer;
const skid = signer.keyId;
const signed = (file: string, o: { keyid: boolean; digest?: string }): Uint8Array => signWith(signer, file, o);

describe('module signatures', () => {
  const ko = livepatchModule({ name: 'livepatch_sigtest' });
  const unsigned = new Uint8Array(readFileSync(ko));

  it('reads the signer’s key id, the digest and the signature value, and the signature verifies with the certificate', () => {
    const bytes = signed(ko, { keyid: true });
    const sig = readModuleSignature(bytes);
    expect(sig).toMatchObject({ signedLength: unsigned.length, keyId: skid, issuer: null, digest: 'sha256', signedAttributes: false });
    expect(sig?.signature.length).toBe(256);
    expect(checkSignature(bytes, sig, new X509Certificate(readFileSync(cert)), unsigned)).toBeNull();
  });

  it('reads a signer named by issuer and serial, and another digest', () => {
    const sig = readModuleSignature(signed(ko, { keyid: false, digest: 'sha512' }));
    const serial = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-serial'], { encoding: 'utf8' }).trim().replace(/^serial=/, '').toLowerCase();
    expect(sig?.keyId).toBeNull();
    expect(sig?.issuer?.commonName).toBe('rebootless test signer');
    expect(BigInt(`0x${sig?.issuer?.serial ?? '0'}`)).toBe(BigInt(`0x${serial}`));
    expect(sig?.digest).toBe('sha512');
  });

  it('a signature from another key, or over other bytes, does not pass the check', () => {
    const bytes = signed(ko, { keyid: true });
    const other = path.join(dir, 'other.pem');
    execFileSync('openssl', ['req', '-new', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=someone else/', '-keyout', path.join(dir, 'other-key.pem'), '-out', other], { stdio: 'pipe' });
    expect(checkSignature(bytes, readModuleSignature(bytes), new X509Certificate(readFileSync(other)), unsigned)).toMatch(/does not verify with the public key of CN=someone else/);
    const tampered = new Uint8Array(bytes);
    tampered[100] = (tampered[100] ?? 0) ^ 1;
    expect(checkSignature(tampered, readModuleSignature(tampered), new X509Certificate(readFileSync(cert)), unsigned)).toBe('the signed bytes are not the module that was verified');
  });

  it('no signature is null; a cut one is an error, not a guess', () => {
    expect(readModuleSignature(unsigned)).toBeNull();
    const bytes = signed(ko, { keyid: true });
    const cut = Buffer.concat([Buffer.from(unsigned), Buffer.from(bytes.subarray(unsigned.length + 40))]);
    expect(() => readModuleSignature(cut)).toThrow();
  });
});
