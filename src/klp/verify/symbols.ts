import { SHN_UNDEF } from '../../elf/constants.js';
import { findSymtab } from '../../elf/edit.js';
import { livepatchRelaObject, parseLivepatchSymbolName, symbolAtSympos } from '../../elf/livepatch.js';
import type { ElfFile, ElfSymbol } from '../../elf/model.js';
import { isLivepatchRelaSection, isLivepatchSymbol, isRelocationSection } from '../../elf/predicates.js';
import type { KlpTables } from '../../elf/klp-tables.js';
import type { ExportInfo, TargetObject, Violation } from './types.js';

// Checks 1 and 2: every name the module asks the kernel for exists where it
// says: `.klp.sym.<obj>.<name>,<sympos>` at that sympos of <obj>, plain
// undefined symbols exported (in a namespace the module imports), and each
// klp_func's old_name,old_sympos a function of its object.

export interface SymbolCheckInput {
  module: ElfFile;
  tables: KlpTables;
  targets: ReadonlyMap<string, TargetObject>;
  exports: ReadonlyMap<string, ExportInfo>;
  /** MODULE_IMPORT_NS namespaces (`.modinfo` import_ns=). */
  importedNamespaces: readonly string[];
  /** Which function of the module uses a symbol, for messages. */
  userOf: (sym: ElfSymbol) => string;
}

const countOf = (t: TargetObject, name: string): string => {
  const n = t.byName(name).length;
  return n === 0 ? `no symbol named ${name} in ${t.name}` : n === 1 ? `one ${name} in ${t.name} (sympos 0 or 1)` : `${n} symbols named ${name} in ${t.name} (sympos 1..${n})`;
};

export function checkLivepatchSymbols(i: SymbolCheckInput): Violation[] {
  const out: Violation[] = [];
  for (const sym of findSymtab(i.module)?.symbols ?? []) {
    if (!isLivepatchSymbol(sym)) continue;
    const n = parseLivepatchSymbolName(sym.name);
    const fn = i.userOf(sym);
    if (!n) {
      out.push({ code: 'KLP_SYM_MISSING', function: fn, symbol: sym.name, expected: '.klp.sym.<object>.<name>,<sympos>', actual: sym.name, message: `${sym.name} is not a well-formed livepatch symbol name` });
      continue;
    }
    const t = i.targets.get(n.object);
    if (!t) {
      out.push({ code: 'OBJECT_UNKNOWN', function: fn, symbol: sym.name, expected: `an object of the release named ${n.object}`, actual: 'none', message: `${sym.name}: the release has no object ${n.object}` });
      continue;
    }
    if (!symbolAtSympos(t.byName(n.name), n.sympos)) {
      out.push({ code: 'KLP_SYM_MISSING', function: fn, symbol: sym.name, expected: `${n.name} at sympos ${n.sympos} in ${n.object}`, actual: countOf(t, n.name), message: `${sym.name} names no symbol: ${countOf(t, n.name)}` });
    }
  }
  return out;
}

/** `.klp.rela.<obj>.*` entries use `.klp.sym.<obj>.*` symbols; normal relocations never use `.klp.sym` ones. */
export function checkLivepatchRelocations(i: SymbolCheckInput): Violation[] {
  const out: Violation[] = [];
  for (const s of i.module.sections) {
    if (!isRelocationSection(s.type)) continue;
    const object = isLivepatchRelaSection(s) ? livepatchRelaObject(s.name) : undefined;
    for (const r of s.relas ?? []) {
      const klp = isLivepatchSymbol(r.symbol) ? parseLivepatchSymbolName(r.symbol.name) : undefined;
      const bad = isLivepatchRelaSection(s) ? !klp || klp.object !== object : isLivepatchSymbol(r.symbol);
      if (!bad) continue;
      out.push({
        code: 'KLP_RELA_MISMATCH',
        function: i.userOf(r.symbol),
        symbol: r.symbol.name,
        expected: isLivepatchRelaSection(s) ? `a .klp.sym.${object ?? '?'}.* symbol in ${s.name}` : 'a .klp.rela.* section for a .klp.sym symbol',
        actual: `${s.name}+0x${r.offset.toString(16)}`,
        message: `${s.name}+0x${r.offset.toString(16)} relocates against ${r.symbol.name || '(no symbol)'}, which the ${isLivepatchRelaSection(s) ? 'livepatch core cannot resolve for that object' : 'module loader cannot resolve'}`,
      });
    }
  }
  return out;
}

export function checkExports(i: SymbolCheckInput): Violation[] {
  const out: Violation[] = [];
  const imported = new Set(i.importedNamespaces);
  for (const sym of findSymtab(i.module)?.symbols ?? []) {
    if (sym.section !== null || sym.shndx !== SHN_UNDEF || !sym.name) continue;
    const exp = i.exports.get(sym.name);
    const fn = i.userOf(sym);
    if (!exp) {
      out.push({ code: 'EXPORT_MISSING', function: fn, symbol: sym.name, expected: `an export named ${sym.name} (Module.symvers)`, actual: 'not exported', message: `${sym.name} is undefined in the module and not exported by the kernel: the module would not load` });
    } else if (exp.namespace && !imported.has(exp.namespace)) {
      out.push({
        code: 'NAMESPACE_NOT_IMPORTED',
        function: fn,
        symbol: sym.name,
        expected: `MODULE_IMPORT_NS(${exp.namespace})`,
        actual: imported.size ? `imports ${[...imported].join(', ')}` : 'imports no namespace',
        message: `${sym.name} is exported in namespace ${exp.namespace} (${exp.module}), which the module does not import: the module would not load`,
      });
    }
  }
  return out;
}

export function checkPatchedFunctions(i: SymbolCheckInput): Violation[] {
  const out: Violation[] = [];
  for (const o of i.tables.objects) {
    const t = i.targets.get(o.name);
    for (const f of o.functions) {
      const where = `${f.name},${f.sympos} in ${o.name}`;
      if (!t) {
        out.push({ code: 'OBJECT_UNKNOWN', function: f.name, symbol: f.name, expected: `an object of the release named ${o.name}`, actual: 'none', message: `klp_object ${o.name}: the release has no such module` });
        continue;
      }
      const s = symbolAtSympos(t.byName(f.name), f.sympos);
      if (!s || s.kind !== 'function') {
        out.push({
          code: 'FUNCTION_MISSING',
          function: f.name,
          symbol: f.name,
          expected: `a function ${where}`,
          actual: s ? `${s.kind} ${s.name}` : countOf(t, f.name),
          message: `klp_func ${where} names no function: ${s ? `it is ${s.kind}` : countOf(t, f.name)}; the patch would fail to enable`,
        });
      }
    }
  }
  return out;
}
