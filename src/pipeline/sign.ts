import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { readModuleSignature, type ModuleSignature } from '../elf/module-signature.js';
import { readConfigValue } from '../kernel/config.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { runInToolchain, workspaceToolchain } from '../kernel/toolchain.js';
import { pathExists } from '../util/fs.js';
import { tail } from '../util/process.js';

// Stage 11 (with --sign-key/--sign-cert), sign: the verified module signed by
// the release tree's own scripts/sign-file, with the digest the release signs
// its modules with and the signer named by its subject key identifier (what
// /proc/keys lists). The signature is then read back and checked against the
// certificate's public key here, independently of sign-file.

export interface SignOptions {
  /** The private key: a PEM file, or a PKCS#11 URI sign-file understands. */
  key: string;
  /** The X.509 certificate (PEM or DER) holding the public key. */
  cert: string;
}

export interface SignReport {
  digest: string;
  /** Subject key identifier of the signer (hex), as /proc/keys shows it. */
  keyId: string | null;
  /** The certificate's subject. */
  subject: string;
}

async function readable(file: string, what: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    throw new RebootlessError('SIGN_INPUT_UNREADABLE', { what, path: file, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
  }
}

/** The signature checked against the certificate: it covers exactly the module bytes, with the certificate's key. */
export function checkSignature(signed: Uint8Array, sig: ModuleSignature | null, cert: X509Certificate, unsigned: Uint8Array): string | null {
  if (!sig) return 'the module carries no signature after signing';
  if (sig.signedAttributes) return 'the signature has signed attributes (the kernel accepts none)';
  if (sig.signedLength !== unsigned.length || !Buffer.from(signed.subarray(0, sig.signedLength)).equals(Buffer.from(unsigned))) return 'the signed bytes are not the module that was verified';
  const ok = verifySignature(sig.digest, signed.subarray(0, sig.signedLength), cert.publicKey, sig.signature);
  return ok ? null : `the signature does not verify with the public key of ${cert.subject.replace(/\n/g, ', ')}`;
}

export async function signModule(bytes: Uint8Array, o: SignOptions, ws: KernelWorkspace, work: string, module: string): Promise<{ bytes: Uint8Array; report: SignReport }> {
  const certBytes = await readable(o.cert, 'certificate');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certBytes);
  } catch (e) {
    throw new RebootlessError('SIGN_INPUT_UNREADABLE', { what: 'certificate', path: o.cert, reason: `not an X.509 certificate (${e instanceof Error ? e.message : String(e)})` });
  }
  if (!o.key.startsWith('pkcs11:')) await readable(o.key, 'private key');
  const signFile = path.join(ws.sourceTree, 'scripts', 'sign-file');
  if (!(await pathExists(signFile))) throw new RebootlessError('SIGN_FAILED', { module, reason: `the prepared tree has no ${signFile}`, outputTail: '' });
  const digest = (await readConfigValue(path.join(ws.sourceTree, '.config'), 'CONFIG_MODULE_SIG_HASH'))?.replace(/"/g, '') || 'sha256';
  const file = path.join(work, 'signed.ko');
  await fsp.writeFile(file, bytes);
  try {
    await runInToolchain(workspaceToolchain(ws), signFile, ['-k', digest, o.key.startsWith('pkcs11:') ? o.key : path.resolve(o.key), path.resolve(o.cert), file], { cwd: work });
  } catch (e) {
    const out = e instanceof Error && 'stderr' in e ? String((e as { stderr: unknown }).stderr) : String(e);
    throw new RebootlessError('SIGN_FAILED', { module, reason: 'scripts/sign-file failed', outputTail: tail(out, 10) }, { cause: e });
  }
  const signed = new Uint8Array(await fsp.readFile(file));
  let sig: ModuleSignature | null;
  try {
    sig = readModuleSignature(signed);
  } catch (e) {
    throw new RebootlessError('SIGN_FAILED', { module, reason: `the signature sign-file appended cannot be read: ${e instanceof Error ? e.message : String(e)}`, outputTail: '' });
  }
  const wrong = checkSignature(signed, sig, cert, bytes);
  if (wrong) throw new RebootlessError('SIGN_FAILED', { module, reason: wrong, outputTail: '' });
  return { bytes: signed, report: { digest: sig?.digest ?? digest, keyId: sig?.keyId ?? null, subject: cert.subject.replace(/\n/g, ', ') } };
}
