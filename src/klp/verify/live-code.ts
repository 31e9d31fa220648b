import type { ElfFile } from '../../elf/model.js';
import type { TargetObject, TargetSymbol, Violation } from './types.js';

// Check 6: the release code the module carries for apply's check of the
// running text (.rebootless.live_code) is the release's: each entry names a
// function of its object at that sympos, with exactly its bytes. Read with
// this file's own reader of the section, not build's writer.

const SECTION = '.rebootless.live_code';

export interface LiveCodeEntry {
  object: string;
  name: string;
  sympos: number;
  bytes: string;
}

/** The entries, or a violation when the section is there but unreadable; [] when absent. */
export function liveCodeEntries(module: ElfFile): { entries: LiveCodeEntry[]; violations: Violation[] } {
  const sec = module.sections.find((s) => s.name === SECTION);
  if (!sec) return { entries: [], violations: [] };
  try {
    const doc = JSON.parse(new TextDecoder().decode(sec.data)) as { version: number; functions: LiveCodeEntry[] };
    if (doc.version !== 1 || !Array.isArray(doc.functions)) throw new Error(`version ${String(doc.version)}`);
    return { entries: doc.functions, violations: [] };
  } catch (e) {
    const message = `${SECTION} cannot be read: ${e instanceof Error ? e.message : String(e)}`;
    return { entries: [], violations: [{ code: 'LIVE_CODE_WRONG', function: '(module)', symbol: SECTION, expected: 'the release code apply compares with', actual: 'unreadable', message }] };
  }
}

/** The function an entry names in its target, if there is exactly one at that sympos. */
export function liveCodeFunction(target: TargetObject, e: LiveCodeEntry): TargetSymbol | undefined {
  const same = target.byName(e.name).filter((s) => s.kind === 'function');
  return e.sympos === 0 ? (same.length === 1 ? same[0] : undefined) : same[e.sympos - 1];
}

export function checkLiveCode(e: LiveCodeEntry, fn: TargetSymbol | undefined, code: Uint8Array | undefined): Violation | undefined {
  const label = `${e.object}:${e.name},${e.sympos}`;
  const wrong = (actual: string): Violation => ({ code: 'LIVE_CODE_WRONG', function: e.name, symbol: SECTION, expected: `the release's bytes of ${label}`, actual, message: `${SECTION}: ${label}: ${actual}` });
  if (!fn) return wrong('no such function in the release');
  const want = Buffer.from(e.bytes, 'hex');
  if (!code || !want.equals(Buffer.from(code))) return wrong(`the bytes carried (${want.length}) are not the release's (${fn.size})`);
  return undefined;
}
