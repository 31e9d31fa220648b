import { readFile } from 'node:fs/promises';
import { RebootlessError } from '../errors/index.js';
import { modinfoOf, modinfoValue, parseElf, type ElfFile } from '../elf/index.js';
import { moduleName, moduleNameOfFile } from '../util/module-name.js';
import { readKlpTables, type KlpTableObject } from '../elf/klp-tables.js';

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
    replace: tables.replace ?? null,
    objects: tables.objects,
    builtByRebootless: modinfoValue(info, 'rebootless') === '1',
  };
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
