import { readFile } from 'node:fs/promises';
import type { VerifyViolation } from '../errors/index.js';
import { findSymtab, isLivepatchSymbol, parseElf, parseLivepatchSymbolName, symbolAtSympos, type KlpTableObject, type LivepatchSymbolName } from '../elf/index.js';
import { hostPath, readTextIfAny, type LiveHost } from './host.js';

// The part of `verify` a live host can do without the release's files: every
// `.klp.sym.<obj>.<name>,<sympos>` and every klp_func old_name,old_sympos
// names a symbol the running kernel has at that position. /proc/kallsyms
// lists vmlinux in address order and each module in its symbol table order,
// the order the livepatch core counts in; hidden addresses (kptr_restrict,
// non-root) do not change the order, so only names are used.

/** object ('vmlinux' or module) → name → how many symbols of that name, in order. */
export type KallsymsCounts = Map<string, Map<string, number>>;

export function parseKallsyms(text: string): KallsymsCounts {
  const out: KallsymsCounts = new Map();
  for (const line of text.split('\n')) {
    const parts = line.split(/\s+/);
    const name = parts[2];
    if (!name) continue;
    const object = parts[3]?.replace(/^\[|\]$/g, '') || 'vmlinux';
    let names = out.get(object);
    if (!names) out.set(object, (names = new Map()));
    names.set(name, (names.get(name) ?? 0) + 1);
  }
  return out;
}

export interface KallsymsCheck {
  violations: VerifyViolation[];
  notes: string[];
}

/** Names the module asks the livepatch core to find: its `.klp.sym` symbols and its klp_funcs. */
export function requestedSymbols(bytes: Uint8Array, objects: readonly KlpTableObject[]): { symbols: LivepatchSymbolName[]; functions: LivepatchSymbolName[] } {
  const elf = parseElf(bytes);
  const symbols = (findSymtab(elf)?.symbols ?? []).filter(isLivepatchSymbol).flatMap((s) => parseLivepatchSymbolName(s.name) ?? []);
  const functions = objects.flatMap((o) => o.functions.map((f) => ({ object: o.name, name: f.name, sympos: f.sympos })));
  return { symbols, functions };
}

export function checkAgainstKallsyms(k: KallsymsCounts, wanted: { symbols: LivepatchSymbolName[]; functions: LivepatchSymbolName[] }): KallsymsCheck {
  const violations: VerifyViolation[] = [];
  const absent = new Set<string>();
  const check = (n: LivepatchSymbolName, code: string, label: string): void => {
    const names = k.get(n.object);
    if (!names) {
      absent.add(n.object);
      return;
    }
    const count = names.get(n.name) ?? 0;
    if (symbolAtSympos(Array.from({ length: count }, (_, i) => i), n.sympos) !== undefined) return;
    const actual = count === 0 ? 'no symbol of that name' : `${count} symbol(s) of that name`;
    violations.push({
      code,
      function: code === 'FUNCTION_MISSING' ? n.name : '(module)',
      symbol: label,
      expected: `${n.name} at sympos ${n.sympos} in ${n.object}`,
      actual: `${actual} in the running ${n.object}`,
      message: `${label}: the running kernel has ${actual} in ${n.object}, so the livepatch core cannot resolve it`,
    });
  };
  for (const s of wanted.symbols) check(s, 'KLP_SYM_MISSING', `.klp.sym.${s.object}.${s.name},${s.sympos}`);
  for (const f of wanted.functions) check(f, 'FUNCTION_MISSING', `${f.name},${f.sympos}`);
  const notes = [...absent].map((o) => `module ${o} is not loaded: the kernel resolves the patch's symbols in it when it loads`);
  return { violations, notes };
}

/** undefined when the host has no /proc/kallsyms. */
export async function checkKallsyms(h: LiveHost, file: string, objects: readonly KlpTableObject[]): Promise<KallsymsCheck | undefined> {
  const text = await readTextIfAny(hostPath(h, 'proc/kallsyms'));
  if (!text) return undefined;
  const counts = parseKallsyms(text);
  if (!counts.get('vmlinux')?.size) return { violations: [], notes: ['/proc/kallsyms lists no symbols here: the patch\'s symbol names were not checked against the running kernel'] };
  return checkAgainstKallsyms(counts, requestedSymbols(await readFile(file), objects));
}
