import { SHF_ALLOC, SHF_INFO_LINK, SHF_RELA_LIVEPATCH, SHN_LIVEPATCH, SHT_RELA, STB_GLOBAL, RELA_SIZE } from '../elf/constants.js';
import { addSection, findSymtab } from '../elf/edit.js';
import { formatLivepatchRelaSectionName, formatLivepatchSymbolName } from '../elf/livepatch.js';
import type { ElfFile, ElfRela, ElfSection } from '../elf/model.js';
import { isRelocationSection } from '../elf/predicates.js';
import type { Placeholder } from './extract.js';

// After kbuild linked the module: every relocation against a placeholder
// moves to a `.klp.rela.<object>.<section>` section (SHF_RELA_LIVEPATCH), and
// the placeholder becomes `.klp.sym.<object>.<name>,<sympos>` with
// st_shndx SHN_LIVEPATCH. The livepatch core resolves those through kallsyms
// when the target object is loaded; the module loader leaves them alone.

export function klpSymbolName(p: Placeholder): string {
  return formatLivepatchSymbolName(p);
}

export interface PostLinkResult {
  /** Relocations moved, per target object. */
  moved: Record<string, number>;
  /** Placeholders the module does not reference (the linker dropped their users). */
  unused: string[];
}

export function convertToLivepatch(ko: ElfFile, placeholders: readonly Placeholder[]): PostLinkResult {
  const byName = new Map(placeholders.map((p) => [p.placeholder, p]));
  const symtab = findSymtab(ko);
  const moved: Record<string, number> = {};
  const seen = new Set<string>();
  for (const relaSec of ko.sections.filter((s) => isRelocationSection(s.type) && s.relas && s.base)) {
    const keep: ElfRela[] = [];
    const klp = new Map<string, ElfRela[]>();
    for (const r of relaSec.relas ?? []) {
      const p = byName.get(r.symbol.name);
      if (!p) {
        keep.push(r);
        continue;
      }
      seen.add(p.placeholder);
      const list = klp.get(p.object) ?? [];
      list.push(r);
      klp.set(p.object, list);
    }
    if (klp.size === 0) continue;
    relaSec.relas = keep;
    const base = relaSec.base as ElfSection;
    for (const [object, relas] of klp) {
      const s = addSection(
        ko,
        {
          name: formatLivepatchRelaSectionName(object, base.name),
          type: SHT_RELA,
          flags: SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH,
          addralign: 8,
          entsize: RELA_SIZE,
        },
        { after: relaSec },
      );
      s.link = symtab ?? null;
      s.base = base;
      s.relas = relas;
      moved[object] = (moved[object] ?? 0) + relas.length;
    }
  }
  for (const sym of symtab?.symbols ?? []) {
    const p = byName.get(sym.name);
    if (!p) continue;
    sym.name = klpSymbolName(p);
    sym.section = null;
    sym.shndx = SHN_LIVEPATCH;
    sym.bind = STB_GLOBAL;
    delete sym.nameOffset;
  }
  return { moved, unused: placeholders.filter((p) => !seen.has(p.placeholder)).map((p) => p.placeholder) };
}
