import { SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, STT_OBJECT } from '../../elf/constants.js';
import type { ElfIndex } from '../../elf/lookup.js';
import { dataSectionVariable, isPerSiteState } from './references.js';
import { baseName, describeTarget } from './target.js';
import type { TargetObject, TargetSymbol, Violation } from './types.js';

// Check 4: the module's writable data is new data only. A data section (or
// object) named like kernel data that the replaced functions' originals use
// is a copy of that data, whoever refers to it.

/** Writable sections the module loader and kernel own, not patch data. */
const OWN_SECTIONS = new Set(['.gnu.linkonce.this_module']);

export interface ModuleDataInput {
  /** Kernel data the originals use, per object. */
  originalData: ReadonlyMap<string, readonly TargetSymbol[]>;
  /** Kernel entities the new code uses: data of the same base name next to them is new, not a copy. */
  newKernel: ReadonlySet<TargetSymbol>;
  targets: ReadonlyMap<string, TargetObject>;
  /** Sections already reported through a reference. */
  flagged: ReadonlySet<string>;
}

export function checkModuleData(idx: ElfIndex, i: ModuleDataInput): Violation[] {
  const { targets, flagged } = i;
  const byBase = new Map<string, TargetSymbol[]>();
  for (const list of i.originalData.values()) for (const e of list) if (!i.newKernel.has(e)) byBase.set(baseName(e.name), [...(byBase.get(baseName(e.name)) ?? []), e]);
  const out: Violation[] = [];
  for (const s of idx.file.sections) {
    const writable = (s.flags & SHF_ALLOC) !== 0n && (s.flags & SHF_WRITE) !== 0n && (s.flags & SHF_EXECINSTR) === 0n;
    if (!writable || OWN_SECTIONS.has(s.name) || flagged.has(s.name)) continue;
    const names = [dataSectionVariable(s.name), ...idx.findSymbolsBySection(s).filter((x) => x.type === STT_OBJECT).map((x) => x.name)].filter(Boolean);
    for (const n of names) {
      if (isPerSiteState(n, s.name)) continue;
      const hit = byBase.get(baseName(n));
      if (!hit) continue;
      const expected = [...new Set(hit)].map((e) => describeTarget(targets.get(e.object), e)).join(' or ');
      out.push({
        code: 'COPIED_DATA',
        function: '(module)',
        symbol: n,
        expected,
        actual: `the module's own ${s.name}`,
        message: `the module carries ${s.name} (${n}), a copy of the kernel's ${expected} that the original code uses: new code that used it would not see the kernel's state`,
      });
      break;
    }
  }
  return out;
}
