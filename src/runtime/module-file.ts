import { readFile } from 'node:fs/promises';
import { RebootlessError } from '../errors/index.js';
import { modinfoOf, modinfoValue, parseElf, type ElfFile } from '../elf/index.js';
import { moduleName, moduleNameOfFile } from '../util/module-name.js';
import { readKlpTables, type KlpTableObject } from '../elf/klp-tables.js';
import { readModuleSignature } from '../elf/module-signature.js';

// What a livepatch .ko says about itself before it is loaded.

export interface LivepatchModuleInfo {
  file: string;
  /** Module name as the kernel will show it. */
  name: string;
  /** The release from vermagic ("6.1.0-57-cloud-amd64 SMP mod_unload modversions"). */
  release: string;
  vermagic: string;
  description: string | null;
  cves: string[];
  /** An appended module signature is present. */
  signed: boolean;
  /** Who signed it, as the signature names the signer (key id, or issuer and serial); null when unsigned. */
  signer: { keyId: string | null; text: string } | null;
  /** Replaces every earlier patch (atomic replace); null when the tables could not tell. */
  replace: boolean | null;
  objects: KlpTableObject[];
  builtByRebootless: boolean;
}

const SIGNATURE_MAGIC = '~Module signature appended~\n';

export function describeModule(file: string, bytes: Uint8Array, elf: ElfFile): LivepatchModuleInfo {
  const info = modinfoOf(elf) ?? [];
  if (modinfoValue(info, 'livepatch') !== 'Y') throw new RebootlessError('NOT_A_LIVEPATCH', { file });
  const vermagic = modinfoValue(info, 'vermagic') ?? '';
  const tables = readKlpTables(elf);
  const tail = new TextDecoder().decode(bytes.subarray(Math.max(0, bytes.length - SIGNATURE_MAGIC.length)));
  const fromThisModule = elf.sections.find((s) => s.name === '.gnu.linkonce.this_module');
  return {
    file,
    name: moduleName(modinfoValue(info, 'name') ?? nameFromThisModule(fromThisModule?.data) ?? moduleNameOfFile(file)),
    release: vermagic.split(' ')[0] ?? '',
    vermagic,
    description: modinfoValue(info, 'description') ?? null,
    cves: info.filter((e) => e.key === 'cve').map((e) => e.value),
    signed: tail === SIGNATURE_MAGIC,
    signer: signerOf(bytes),
    replace: tables.replace ?? null,
    objects: tables.objects,
    builtByRebootless: modinfoValue(info, 'rebootless') === '1',
  };
}

function signerOf(bytes: Uint8Array): LivepatchModuleInfo['signer'] {
  try {
    const sig = readModuleSignature(bytes);
    if (!sig) return null;
    const text = sig.keyId ? `key id ${sig.keyId}` : sig.issuer ? `${sig.issuer.commonName ?? 'an unnamed issuer'}, serial ${sig.issuer.serial}` : 'a signer the signature does not name';
    return { keyId: sig.keyId, text };
  } catch {
    // the kernel decides what a signature we cannot read is worth
    return { keyId: null, text: 'a signature rebootless cannot read' };
  }
}

/** struct module's name field sits after its list_head and state (24 bytes in). */
function nameFromThisModule(data: Uint8Array | undefined): string | undefined {
  if (!data || data.length < 24 + 56) return undefined;
  const raw = data.subarray(24, 24 + 56);
  const end = raw.indexOf(0);
  const s = new TextDecoder().decode(raw.subarray(0, end < 0 ? raw.length : end));
  return /^[\w-]+$/.test(s) ? s : undefined;
}

export async function readModuleFile(file: string): Promise<LivepatchModuleInfo> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new RebootlessError('MODULE_FILE_MISSING', { path: file, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
  }
  return describeModule(file, bytes, parseElf(bytes, { file }));
}

/** Every function the patch replaces, as "object:function". */
export const patchedFunctionNames = (m: { objects: KlpTableObject[] }): string[] =>
  m.objects.flatMap((o) => o.functions.map((f) => f.name));
