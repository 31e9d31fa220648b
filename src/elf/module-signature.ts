// The signature a kernel module carries after its ELF image (what scripts/sign-file
// appends): a PKCS#7 SignedData in DER, a 12-byte struct module_signature whose
// last field is the DER's length (big-endian), and the magic string. Read here
// without OpenSSL: who signed (the subject key identifier sign-file -k puts in,
// or the issuer's common name and serial), with which digest, and the raw
// signature bytes, so the signature can be checked against a certificate.

export const MODULE_SIGNATURE_MAGIC = '~Module signature appended~\n';
const TRAILER = 12;
const PKEY_ID_PKCS7 = 2;

export interface ModuleSignature {
  /** The module's bytes without the signature: what was signed. */
  signedLength: number;
  /** Subject key identifier of the signer (hex), when the signature names the key that way. */
  keyId: string | null;
  /** The signer's issuer common name and serial (hex), when it names the certificate that way. */
  issuer: { commonName: string | null; serial: string } | null;
  /** Digest: sha256, sha384, sha512, sha1 or sha224 (or the OID when unknown). */
  digest: string;
  /** The signature value (RSA PKCS#1 v1.5 or ECDSA over the digest of the module, no signed attributes). */
  signature: Uint8Array;
  /** Signed attributes are present (sign-file never adds them; the signature then covers them, not the module). */
  signedAttributes: boolean;
}

interface Der {
  tag: number;
  /** Start of the contents within the buffer. */
  start: number;
  end: number;
}

function readDer(b: Uint8Array, at: number, limit: number): Der {
  if (at + 2 > limit) throw new Error('truncated DER');
  const tag = b[at] as number;
  let len = b[at + 1] as number;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[start + i] as number);
    start += n;
  }
  if (start + len > limit) throw new Error('DER element runs past its container');
  return { tag, start, end: start + len };
}

/** The elements directly inside a constructed element. */
function children(b: Uint8Array, d: Der): Der[] {
  const out: Der[] = [];
  for (let at = d.start; at < d.end; ) {
    const c = readDer(b, at, d.end);
    out.push(c);
    at = c.end;
  }
  return out;
}

const hex = (b: Uint8Array, d: Der): string => Buffer.from(b.subarray(d.start, d.end)).toString('hex');

function oid(b: Uint8Array, d: Der): string {
  const bytes = b.subarray(d.start, d.end);
  const first = bytes[0] ?? 0;
  const parts = [Math.floor(first / 40), first % 40];
  let v = 0;
  for (const x of bytes.subarray(1)) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const DIGESTS: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '1.3.14.3.2.26': 'sha1',
};
const COMMON_NAME = '2.5.4.3';

/** The CN of an X.501 Name (SEQUENCE of SET of AttributeTypeAndValue). */
function commonName(b: Uint8Array, name: Der): string | null {
  for (const rdn of children(b, name)) {
    for (const atv of children(b, rdn)) {
      const [type, value] = children(b, atv);
      if (type && value && oid(b, type) === COMMON_NAME) return Buffer.from(b.subarray(value.start, value.end)).toString('utf8');
    }
  }
  return null;
}

/**
 * The module's signature, or null when it carries none. Throws when the trailer says
 * there is one that cannot be read (a cut or corrupt signature).
 */
export function readModuleSignature(bytes: Uint8Array): ModuleSignature | null {
  const magic = Buffer.from(MODULE_SIGNATURE_MAGIC);
  if (bytes.length < magic.length + TRAILER || !Buffer.from(bytes.subarray(bytes.length - magic.length)).equals(magic)) return null;
  const trailer = bytes.length - magic.length - TRAILER;
  const view = new DataView(bytes.buffer, bytes.byteOffset + trailer, TRAILER);
  if (view.getUint8(2) !== PKEY_ID_PKCS7) throw new Error(`signature id type ${view.getUint8(2)} is not PKCS#7`);
  const sigLen = view.getUint32(8, false);
  const sigStart = trailer - sigLen;
  if (sigStart < 0) throw new Error('signature length runs past the start of the file');
  const b = bytes;
  const contentInfo = readDer(b, sigStart, trailer);
  const [, explicit] = children(b, contentInfo);
  if (!explicit) throw new Error('PKCS#7 ContentInfo holds no content');
  const [signedData] = children(b, explicit);
  if (!signedData) throw new Error('PKCS#7 holds no SignedData');
  const signerInfos = children(b, signedData).at(-1);
  const signer = signerInfos ? children(b, signerInfos)[0] : undefined;
  if (!signer) throw new Error('PKCS#7 SignedData holds no SignerInfo');
  const [, sid, digestAlg, ...rest] = children(b, signer);
  if (!sid || !digestAlg) throw new Error('SignerInfo is incomplete');
  const signedAttributes = rest[0]?.tag === 0xa0;
  const value = rest.at(-1);
  if (!value || value.tag !== 0x04) throw new Error('SignerInfo has no signature value');
  const algOid = children(b, digestAlg)[0];
  const digestOid = algOid ? oid(b, algOid) : '';
  let keyId: string | null = null;
  let issuer: ModuleSignature['issuer'] = null;
  if (sid.tag === 0x80) keyId = hex(b, sid);
  else {
    const [name, serial] = children(b, sid);
    if (name && serial) issuer = { commonName: commonName(b, name), serial: hex(b, serial) };
  }
  return { signedLength: sigStart, keyId, issuer, digest: DIGESTS[digestOid] ?? digestOid, signature: b.slice(value.start, value.end), signedAttributes };
}
