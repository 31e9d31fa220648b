import { EHDR_SIZE, ET_REL, SHDR_SIZE, SHN_LORESERVE, SHN_XINDEX, SHT_GROUP, SHT_NOBITS, SHT_NULL, SHT_SYMTAB_SHNDX, STB_LOCAL } from './constants.js';
import { ElfDiagnostics } from './diagnostics.js';
import { serializeGroup } from './groups.js';
import { extendedNumbering, writeElfHeader, writeSectionHeader } from './headers.js';
import type { ElfFile, ElfSection, ElfSymbol } from './model.js';
import { elfTypeName } from './names.js';
import { isGeneratedSection, isRelocationSection, isSymbolTable } from './predicates.js';
import { relocationEntrySize, serializeRelocations } from './relocations.js';
import { buildStringTable, hasNameAt } from './strtab.js';
import { serializeSymbols, writeOrder } from './symbols.js';

// model → bytes, for ET_REL objects and modules. Symbol, relocation, group and
// string table contents are regenerated from the model, every section and
// symbol index is recomputed from the model's order, and locals are placed
// before globals. When every section still has its original size the
// original layout (offsets, padding) is reused, so an unmodified object comes
// out byte for byte as it went in; otherwise the file is laid out afresh.

export interface SerializeOptions {
  /** Lay the file out afresh even when the original layout could be kept. */
  freshLayout?: boolean;
}

/** Largest object the writer produces; anything bigger is a broken model (a runaway alignment). */
const MAX_OUTPUT = 2 ** 31;

interface SymbolTablePlan {
  ordered: ElfSymbol[];
  indexOf: Map<ElfSymbol, number>;
  firstGlobal: number;
  shndx?: Uint8Array;
}

function alignUp(n: number, align: number): number {
  return align > 1 ? Math.ceil(n / align) * align : n;
}

export function serializeElf(file: ElfFile, options: SerializeOptions = {}): Uint8Array {
  const diag = new ElfDiagnostics(file.file);
  const { sections } = file;
  if (file.header.type !== ET_REL) throw diag.unsupported('type for writing', elfTypeName(file.header.type), 'REL: only relocatable objects and modules are written');
  if (sections.length > 0 && sections[0]?.type !== SHT_NULL) throw diag.modelInvalid('section 0 must be the SHT_NULL entry');

  const sectionIndex = new Map<ElfSection, number>();
  sections.forEach((s, i) => {
    if (sectionIndex.has(s)) throw diag.modelInvalid(`section ${s.name} appears twice in the section list`, s.name);
    sectionIndex.set(s, i);
  });
  // `user` describes the referrer for the message; a function, so the hot path builds no strings.
  const indexOf = (s: ElfSection, user: string | (() => string)): number => {
    const i = sectionIndex.get(s);
    if (i === undefined) throw diag.modelInvalid(`${typeof user === 'string' ? user : user()} refers to section ${s.name}, which is not in the section list`, s.name);
    return i;
  };

  // Symbol tables: write order (locals first) and the new index of every symbol.
  const plans = new Map<ElfSection, SymbolTablePlan>();
  const owner = new Map<ElfSymbol, ElfSection>();
  for (const s of sections) {
    if (!isSymbolTable(s.type)) continue;
    if (!s.symbols) throw diag.modelInvalid(`symbol table ${s.name} has no symbol list (a partial read, or created without one)`, s.name);
    const ordered = writeOrder(s.symbols);
    const indexOfSym = new Map<ElfSymbol, number>();
    ordered.forEach((sym, i) => {
      const other = owner.get(sym);
      if (other) throw diag.modelInvalid(`symbol ${sym.name} appears twice (in ${other.name} and ${s.name})`, s.name);
      owner.set(sym, s);
      indexOfSym.set(sym, i);
    });
    let firstGlobal = ordered.findIndex((sym, i) => i > 0 && sym.bind !== STB_LOCAL);
    if (firstGlobal < 0) firstGlobal = ordered.length;
    plans.set(s, { ordered, indexOf: indexOfSym, firstGlobal });
  }
  const planOf = (table: ElfSection | null, user: ElfSection): SymbolTablePlan => {
    const plan = table ? plans.get(table) : undefined;
    if (!plan || !table) throw diag.modelInvalid(`${user.name} needs a symbol table in sh_link`, user.name);
    indexOf(table, `sh_link of ${user.name}`);
    return plan;
  };
  const symbolIndex = (plan: SymbolTablePlan, sym: ElfSymbol, table: ElfSection, user: string | (() => string)): number => {
    const i = plan.indexOf.get(sym);
    if (i === undefined) throw diag.modelInvalid(`${typeof user === 'string' ? user : user()} refers to symbol ${sym.name || '(unnamed)'}, which is not in ${table.name}`, table.name);
    return i;
  };

  // String tables: the original when every name is still where it was, else rebuilt.
  const nameUsers = new Map<ElfSection, { name: string; nameOffset?: number }[]>();
  const addUsers = (table: ElfSection, users: readonly { name: string; nameOffset?: number }[]): void => {
    nameUsers.set(table, [...(nameUsers.get(table) ?? []), ...users]);
  };
  if (file.shstrtab) {
    indexOf(file.shstrtab, 'e_shstrndx');
    addUsers(file.shstrtab, sections.slice(1));
  } else if (sections.some((s) => s.name !== '')) {
    throw diag.modelInvalid('sections have names but the file has no section name table (shstrtab)');
  }
  for (const [table, plan] of plans) {
    if (table.link) {
      indexOf(table.link, `sh_link of ${table.name}`);
      addUsers(table.link, plan.ordered);
    } else if (plan.ordered.some((s) => s.name !== '')) {
      throw diag.modelInvalid(`symbols of ${table.name} have names but it has no string table (sh_link)`, table.name);
    }
  }
  const content = new Map<ElfSection, Uint8Array>();
  const nameOffsetIn = new Map<ElfSection, (u: { name: string; nameOffset?: number }) => number>();
  for (const [table, users] of nameUsers) {
    if (table.type === SHT_NOBITS || isGeneratedSection(table.type)) throw diag.modelInvalid(`string table ${table.name} is a ${table.type === SHT_NOBITS ? 'SHT_NOBITS' : 'symbol, relocation or group'} section`, table.name);
    const original = table.data;
    if (users.every((u) => u.nameOffset !== undefined && hasNameAt(original, u.nameOffset, u.name))) {
      content.set(table, original);
      nameOffsetIn.set(table, (u) => u.nameOffset as number);
    } else {
      const built = buildStringTable(users.map((u) => u.name));
      content.set(table, built.data);
      nameOffsetIn.set(table, (u) => built.offsetOf.get(u.name) as number);
    }
  }

  // Symbol tables.
  for (const [table, plan] of plans) {
    const nameOffset = table.link ? (nameOffsetIn.get(table.link) as (u: ElfSymbol) => number) : () => 0;
    const encoded = serializeSymbols(plan.ordered, {
      nameOffset,
      sectionIndex: (sym) => {
        if (sym.section) return indexOf(sym.section, () => `symbol ${sym.name || '(unnamed)'}`);
        if ((sym.shndx !== 0 && sym.shndx < SHN_LORESERVE) || sym.shndx === SHN_XINDEX) throw diag.modelInvalid(`symbol ${sym.name} has no section but st_shndx ${sym.shndx}`, table.name);
        return sym.shndx;
      },
    });
    content.set(table, encoded.data);
    if (encoded.needsShndx) plan.shndx = encoded.shndx;
  }
  const shndxFor = new Map<ElfSection, ElfSection>();
  for (const s of sections) if (s.type === SHT_SYMTAB_SHNDX && s.link && !shndxFor.has(s.link)) shndxFor.set(s.link, s);
  for (const [table, plan] of plans) {
    const shndxSection = shndxFor.get(table);
    if (shndxSection) content.set(shndxSection, plan.shndx ?? new Uint8Array(plan.ordered.length * 4));
    else if (plan.shndx) throw diag.modelInvalid(`${table.name} needs extended section indices (0xff00 or more sections): add a SHT_SYMTAB_SHNDX section linked to it`, table.name);
  }

  // Relocation and group sections, then everything else as it is.
  for (const s of sections) {
    if (isRelocationSection(s.type)) {
      if (!s.relas) throw diag.modelInvalid(`relocation section ${s.name} has no relocation list (a partial read, or created without one)`, s.name);
      if (s.entsize !== relocationEntrySize(s.type)) throw diag.modelInvalid(`relocation section ${s.name} has sh_entsize ${s.entsize}, not ${relocationEntrySize(s.type)}`, s.name);
      if (s.relas.length === 0) {
        content.set(s, new Uint8Array(0));
        continue;
      }
      const plan = planOf(s.link, s);
      const table = s.link as ElfSection;
      content.set(s, serializeRelocations(s.type, s.relas, (r) => symbolIndex(plan, r.symbol, table, () => `relocation at 0x${r.offset.toString(16)} in ${s.name}`)));
    } else if (s.type === SHT_GROUP) {
      if (!s.group) throw diag.modelInvalid(`group section ${s.name} has no member list (a partial read, or created without one)`, s.name);
      content.set(s, serializeGroup(s.group, (m) => indexOf(m, () => `group ${s.name}`)));
    } else if (!content.has(s) && s.type !== SHT_NOBITS && s.type !== SHT_NULL) {
      content.set(s, s.data);
    }
  }

  // Section header fields other than the offset.
  const headers = sections.map((s, i) => {
    if (i === 0) return { name: 0, type: SHT_NULL, flags: 0n, addr: 0n, size: 0, link: 0, info: 0, addralign: 0, entsize: 0 };
    const plan = plans.get(s);
    let info = s.info;
    if (plan) info = plan.firstGlobal;
    else if (s.base) info = indexOf(s.base, () => `sh_info of ${s.name}`);
    else if (s.group) info = symbolIndex(planOf(s.link, s), s.group.signature, s.link as ElfSection, `group ${s.name}`);
    const nameOffset = file.shstrtab ? (nameOffsetIn.get(file.shstrtab) as (u: ElfSection) => number)(s) : 0;
    const size = s.type === SHT_NOBITS ? s.size : (content.get(s)?.length ?? 0);
    return {
      name: nameOffset,
      type: s.type,
      flags: s.flags,
      addr: s.addr,
      size,
      link: s.link ? indexOf(s.link, () => `sh_link of ${s.name}`) : 0,
      info,
      addralign: s.addralign,
      entsize: s.entsize,
    };
  });

  const layout = options.freshLayout ? undefined : originalLayout(file, content);
  const offsets = layout?.offsets ?? [];
  let shoff: number;
  let total: number;
  if (layout) {
    shoff = layout.shoff;
    total = layout.image.length;
  } else {
    let pos = EHDR_SIZE;
    sections.forEach((s, i) => {
      if (i === 0) {
        offsets.push(0);
        return;
      }
      const at = alignUp(pos, Math.max(1, s.addralign));
      offsets.push(at);
      if (s.type !== SHT_NOBITS) pos = at + (content.get(s)?.length ?? 0);
      if (pos > MAX_OUTPUT) throw diag.tooLarge('output size', pos, MAX_OUTPUT, s.name);
    });
    shoff = sections.length > 0 ? alignUp(pos, 8) : 0;
    total = Math.max(pos, shoff + sections.length * SHDR_SIZE);
    if (total > MAX_OUTPUT) throw diag.tooLarge('output size', total, MAX_OUTPUT);
  }

  const out = layout ? layout.image : new Uint8Array(total);
  const shstrndx = file.shstrtab ? (sectionIndex.get(file.shstrtab) as number) : 0;
  const numbering = extendedNumbering(sections.length, shstrndx);
  writeElfHeader(out, file.header, {
    shoff,
    eShnum: numbering.eShnum,
    eShstrndx: numbering.eShstrndx,
    phoff: layout ? file.header.phoff : 0n,
    phnum: layout ? file.header.phnum : 0,
  });
  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  sections.forEach((s, i) => {
    const h = headers[i] as (typeof headers)[number];
    const offset = offsets[i] as number;
    const bytes = content.get(s);
    if (bytes && bytes.length > 0 && s.type !== SHT_NOBITS) out.set(bytes, offset);
    if (i === 0) {
      h.size = numbering.sh0Size;
      h.link = numbering.sh0Link;
    }
    writeSectionHeader(outView, shoff + i * SHDR_SIZE, h, i === 0 ? 0 : offset);
  });
  return out;
}

/**
 * The original file's layout, when every section can stay where it was: same
 * number of sections (so the header table fits), each parsed from this very
 * file and still of its original size.
 */
function originalLayout(file: ElfFile, content: Map<ElfSection, Uint8Array>): { image: Uint8Array; offsets: number[]; shoff: number } | undefined {
  const origin = file.origin;
  if (!origin || origin.partial || origin.shnum !== file.sections.length || origin.shoff === 0) return undefined;
  const offsets: number[] = [0];
  const used: { start: number; end: number }[] = [
    { start: 0, end: EHDR_SIZE },
    { start: origin.shoff, end: origin.shoff + origin.shnum * SHDR_SIZE },
  ];
  for (let i = 1; i < file.sections.length; i++) {
    const s = file.sections[i] as ElfSection;
    const o = s.origin;
    if (!o || o.image !== origin.image) return undefined;
    if (s.type !== SHT_NOBITS) {
      const length = content.get(s)?.length ?? 0;
      if (length !== o.size || o.offset + length > origin.image.size) return undefined;
      if (length > 0) used.push({ start: o.offset, end: o.offset + length });
    }
    offsets.push(o.offset);
  }
  // A section object copied with its origin would land on another's bytes.
  used.sort((a, b) => a.start - b.start);
  for (let i = 1; i < used.length; i++) if ((used[i] as { start: number }).start < (used[i - 1] as { end: number }).end) return undefined;
  const image = new Uint8Array(origin.image.size);
  image.set(origin.image.bytes(0, origin.image.size, 'original file'));
  return { image, offsets, shoff: origin.shoff };
}
