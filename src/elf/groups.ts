import { GRP_COMDAT } from './constants.js';
import type { ElfDiagnostics } from './diagnostics.js';
import { view } from './image.js';
import type { ElfGroup, ElfSection, ElfSymbol } from './model.js';

// SHT_GROUP sections: a flag word (GRP_COMDAT) and the header indices of the
// member sections; sh_info names the signature symbol.

export function parseGroup(section: ElfSection, data: Uint8Array, sections: readonly ElfSection[], symbols: readonly ElfSymbol[] | null, signatureIndex: number, diag: ElfDiagnostics): ElfGroup {
  if (data.length < 4 || data.length % 4 !== 0) throw diag.malformed(`group section ${section.name} size ${data.length} is not a flag word plus 4-byte members`, section.name);
  if (!symbols) throw diag.malformed(`group section ${section.name} has no symbol table (sh_link)`, section.name);
  const signature = symbols[signatureIndex];
  if (!signature) throw diag.outOfRange(`signature symbol index of group ${section.name}`, signatureIndex, symbols.length, section.name);
  const v = view(data);
  const members: ElfSection[] = [];
  const base = section.origin?.offset ?? 0;
  for (let at = 4; at < data.length; at += 4) {
    const index = v.getUint32(at, true);
    const member = index === 0 ? undefined : sections[index];
    if (!member) throw diag.outOfRange(`member section index of group ${section.name}`, index, sections.length, section.name, base + at);
    members.push(member);
  }
  return { flags: v.getUint32(0, true), signature, members };
}

export function serializeGroup(group: ElfGroup, sectionIndex: (s: ElfSection) => number): Uint8Array {
  const data = new Uint8Array(4 + 4 * group.members.length);
  const v = view(data);
  v.setUint32(0, group.flags, true);
  group.members.forEach((m, i) => v.setUint32(4 + 4 * i, sectionIndex(m), true));
  return data;
}

export function isComdat(group: ElfGroup): boolean {
  return (group.flags & GRP_COMDAT) !== 0;
}
