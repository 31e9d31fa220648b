import { RebootlessError } from '../errors/index.js';
import { SHN_UNDEF, SHT_PROGBITS } from '../elf/constants.js';
import { ElfSection } from '../elf/model.js';
import { EXPECTATIONS_SECTION, type LiveExpectations } from '../klp/run-pre/expect.js';
import { findSymtab } from '../elf/edit.js';
import { readElfFile } from '../elf/files.js';
import type { ElfFile } from '../elf/model.js';
import { modinfoOf, modinfoValue } from '../elf/modinfo.js';
import { serializeElf } from '../elf/serialize.js';
import type { Export } from '../kernel/symvers.js';
import type { Placeholder } from '../klp/extract.js';
import { convertToLivepatch } from '../klp/postlink.js';

// Stage 9, post-link: the linked module's placeholder relocations become
// livepatch relocations (.klp.rela sections, .klp.sym symbols); then every
// undefined symbol left must be an export and vermagic the release's.

export interface PostLinkInput {
  ko: string;
  placeholders: readonly Placeholder[];
  exports: ReadonlyMap<string, Export>;
  release: string;
  moduleName: string;
  /** What apply checks the running kernel's text against, carried in a section the loader skips. */
  expectations: LiveExpectations;
}

export async function postLink(i: PostLinkInput): Promise<{ bytes: Uint8Array; warnings: string[] }> {
  const file = await readElfFile(i.ko);
  const r = convertToLivepatch(file, i.placeholders);
  const warnings = r.unused.length ? [`${r.unused.length} kernel reference(s) no longer used after linking`] : [];
  checkLinked(file, i);
  file.sections.push(new ElfSection({ name: EXPECTATIONS_SECTION, type: SHT_PROGBITS, data: new TextEncoder().encode(JSON.stringify(i.expectations)) }));
  return { bytes: serializeElf(file), warnings };
}

function checkLinked(file: ElfFile, i: PostLinkInput): void {
  const symbols = findSymtab(file)?.symbols ?? [];
  const missing = symbols.filter((s) => s.name && s.section === null && s.shndx === SHN_UNDEF && !i.exports.has(s.name)).map((s) => s.name);
  if (missing.length) throw new RebootlessError('BUILD_MODULE_CHECK', { module: i.moduleName, problem: `undefined symbol(s) neither exported nor livepatch-relocated: ${missing.join(', ')}` });
  const vermagic = modinfoValue(modinfoOf(file) ?? [], 'vermagic') ?? '';
  if (!vermagic.startsWith(`${i.release} `)) throw new RebootlessError('BUILD_MODULE_CHECK', { module: i.moduleName, problem: `vermagic '${vermagic}' is not for ${i.release}` });
}
