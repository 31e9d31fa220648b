import { STT_FUNC } from '../../elf/constants.js';
import { buildIndex } from '../../elf/lookup.js';
import type { ElfSymbol } from '../../elf/model.js';
import { modinfoOf } from '../../elf/modinfo.js';
import { isTextSection } from '../../elf/predicates.js';
import { symbolAtSympos } from '../../elf/livepatch.js';
import { compareReferences, type WalkRoot } from './compare.js';
import { checkModuleData } from './data.js';
import { checkSideTables } from './side-tables.js';
import { checkExports, checkLivepatchRelocations, checkLivepatchSymbols, checkPatchedFunctions, type SymbolCheckInput } from './symbols.js';
import type { TargetSymbol, VerifyInput, VerifyResult, Violation } from './types.js';
import { checkLiveCode, liveCodeEntries, liveCodeFunction } from './live-code.js';

// `verify`: an independent check of a finished livepatch module against the
// running kernel's symbols and code. Pure: the caller reads vmlinux code for
// the functions `needCode` lists and calls again until it lists none.

export type { ExportInfo, TargetObject, TargetSymbol, VerifyInput, VerifyResult, Violation, ViolationCode } from './types.js';
export { targetObject, baseName } from './target.js';

export function verifyLivepatch(input: VerifyInput): VerifyResult {
  const idx = buildIndex(input.module);
  // which klp_func each new function serves, by the module's own tables
  const newCode = new Map<ElfSymbol, string>();
  const roots: WalkRoot[] = [];
  for (const o of input.tables.objects) {
    const target = input.targets.get(o.name);
    for (const f of o.functions) {
      const code = input.tables.newCode.get(f);
      const fn = code && (code.symbol.type === STT_FUNC ? code.symbol : idx.findSymbolContaining(code.section, code.offset));
      const twin = target && symbolAtSympos(target.byName(f.name), f.sympos);
      if (!fn) continue;
      newCode.set(fn, f.name);
      if (target && twin && twin.kind === 'function') roots.push({ fn, twin, target });
    }
  }
  const userOf = (sym: ElfSymbol): string => {
    for (const s of input.module.sections) {
      if (!s.relas || !s.base || !isTextSection(s.base)) continue;
      const r = s.relas.find((x) => x.symbol === sym);
      const fn = r && idx.findSymbolContaining(s.base, r.offset);
      if (fn) return newCode.get(fn) ?? fn.name;
    }
    return '(module)';
  };
  const symbolInput: SymbolCheckInput = {
    module: input.module,
    tables: input.tables,
    targets: input.targets,
    exports: input.exports,
    importedNamespaces: (modinfoOf(input.module) ?? []).filter((e) => e.key === 'import_ns').map((e) => e.value),
    userOf,
  };
  const walk = compareReferences({ module: input.module, moduleIndex: idx, resolver: { targets: input.targets, exports: input.exports, foreign: new Map() }, code: input.code, newCode }, roots);
  const live = checkCarriedCode(input);
  const violations = [
    ...checkLivepatchSymbols(symbolInput),
    ...checkLivepatchRelocations(symbolInput),
    ...checkExports(symbolInput),
    ...checkPatchedFunctions(symbolInput),
    ...walk.violations,
    ...checkModuleData(idx, { originalData: walk.originalData, newKernel: walk.newKernel, targets: input.targets, flagged: walk.flaggedSections }),
    ...checkSideTables(input.module),
    ...live.violations,
  ];
  return { violations, needCode: [...new Set([...walk.needCode, ...live.needCode])], compared: roots.map((r) => newCode.get(r.fn) ?? r.fn.name) };
}

/** Check 6 over every entry of the module's carried release code (vmlinux code read through needCode). */
function checkCarriedCode(input: VerifyInput): { violations: Violation[]; needCode: TargetSymbol[] } {
  const { entries, violations } = liveCodeEntries(input.module);
  const needCode: TargetSymbol[] = [];
  for (const e of entries) {
    const target = input.targets.get(e.object);
    if (!target) continue;
    const fn = liveCodeFunction(target, e);
    const sec = fn?.elf?.section;
    const code = fn && target.file && sec ? sec.data.subarray(Number(fn.value), Number(fn.value) + fn.size) : fn && input.code.get(fn);
    if (fn && !code) {
      needCode.push(fn);
      continue;
    }
    const v = checkLiveCode(e, fn, code);
    if (v) violations.push(v);
  }
  return { violations, needCode };
}
