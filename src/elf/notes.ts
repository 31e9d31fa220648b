import { SHT_NOTE } from './constants.js';
import { ElfDiagnostics } from './diagnostics.js';
import { view } from './image.js';
import type { ElfFile, ElfSection } from './model.js';
import { decodeName, encodeName } from './strtab.js';

// SHT_NOTE contents: entries of namesz, descsz, type, then the name and the
// descriptor, each padded to the section's alignment (4, or 8 for
// .note.gnu.property).

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

function pad(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

export function parseNotes(data: Uint8Array, options: { align?: number; file?: string; section?: string } = {}): ElfNote[] {
  const align = options.align === 8 ? 8 : 4;
  const diag = new ElfDiagnostics(options.file ?? '<memory>');
  const v = view(data);
  const out: ElfNote[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 12 > data.length) throw diag.malformed(`note header at offset ${at} runs past the end of the section`, options.section, at);
    const namesz = v.getUint32(at, true);
    const descsz = v.getUint32(at + 4, true);
    const type = v.getUint32(at + 8, true);
    const nameAt = at + 12;
    const descAt = nameAt + pad(namesz, align);
    const next = descAt + pad(descsz, align);
    if (descAt + descsz > data.length || next > pad(data.length, align)) throw diag.malformed(`note at offset ${at} (name ${namesz} bytes, descriptor ${descsz} bytes) runs past the end of the section`, options.section, at);
    const nameEnd = namesz > 0 && data[nameAt + namesz - 1] === 0 ? nameAt + namesz - 1 : nameAt + namesz;
    out.push({ name: decodeName(data, nameAt, nameEnd), type, desc: data.subarray(descAt, descAt + descsz) });
    at = next;
  }
  return out;
}

export function serializeNotes(notes: readonly ElfNote[], align = 4): Uint8Array {
  const parts = notes.map((n) => ({ name: n.name === '' ? new Uint8Array(0) : encodeName(`${n.name}\0`), n }));
  const size = parts.reduce((s, p) => s + 12 + pad(p.name.length, align) + pad(p.n.desc.length, align), 0);
  const out = new Uint8Array(size);
  const v = view(out);
  let at = 0;
  for (const { name, n } of parts) {
    v.setUint32(at, name.length, true);
    v.setUint32(at + 4, n.desc.length, true);
    v.setUint32(at + 8, n.type, true);
    out.set(name, at + 12);
    const descAt = at + 12 + pad(name.length, align);
    out.set(n.desc, descAt);
    at = descAt + pad(n.desc.length, align);
  }
  return out;
}

export function notesOf(section: ElfSection, file = '<memory>'): ElfNote[] {
  return parseNotes(section.data, { align: section.addralign, file, section: section.name });
}

/** Every note of every SHT_NOTE section, with its section. */
export function allNotes(file: ElfFile): { section: ElfSection; note: ElfNote }[] {
  return file.sections.filter((s) => s.type === SHT_NOTE).flatMap((section) => notesOf(section, file.file).map((note) => ({ section, note })));
}
