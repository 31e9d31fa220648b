import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MODULE_SIGNATURE_MAGIC } from '../../src/elf/module-signature.js';
import { tempDir } from './tmp.js';

// A throwaway signing key, and modules signed with it the way scripts/sign-file
// signs them (OpenSSL CMS: detached, binary, no signed attributes, no
// certificates; the signer named by key id unless told otherwise).

export interface TestSigner {
  key: string;
  cert: string;
  /** The certificate's subject key identifier, lowercase hex. */
  keyId: string;
}

export function makeSigner(commonName: string): TestSigner {
  const dir = tempDir('rbl-signer-');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-new', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', `/CN=${commonName}/`, '-keyout', key, '-out', cert], { stdio: 'pipe' });
  const keyId = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-ext', 'subjectKeyIdentifier'], { encoding: 'utf8' }).split('\n')[1]?.trim().replace(/:/g, '').toLowerCase() ?? '';
  return { key, cert, keyId };
}

/** The module's bytes with a signature appended as sign-file appends it; written to `out` when given. */
export function signWith(s: TestSigner, file: string, o: { keyid?: boolean; digest?: string; out?: string } = {}): Uint8Array {
  const p7 = path.join(tempDir('rbl-sig-'), 'sig.p7');
  const keyid = o.keyid ?? true;
  execFileSync('openssl', ['cms', '-sign', '-binary', '-noattr', '-nocerts', '-nosmimecap', ...(keyid ? ['-keyid'] : []), '-md', o.digest ?? 'sha256', '-outform', 'DER', '-signer', s.cert, '-inkey', s.key, '-in', file, '-out', p7]);
  const der = readFileSync(p7);
  const trailer = Buffer.alloc(12);
  trailer[2] = 2; // PKEY_ID_PKCS7
  trailer.writeUInt32BE(der.length, 8);
  const bytes = Buffer.concat([readFileSync(file), der, trailer, Buffer.from(MODULE_SIGNATURE_MAGIC)]);
  if (o.out) writeFileSync(o.out, bytes);
  return bytes;
}
