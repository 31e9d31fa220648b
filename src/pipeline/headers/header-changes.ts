import { splitItems, tokens, type CItem } from './c-items.js';

// What a header's change changes, item by item (c-items.ts): the names whose
// definition is new, gone or different (macros, functions, declarations,
// records that are new), and the record layouts it changes, which no
// livepatch can carry (objects of the old layout live on in the kernel).

export interface LayoutChange {
  /** `struct sk_buff`, `enum foo`. */
  record: string;
  /** The first member added, removed or changed, as the patched (else the released) header writes it. */
  member: string;
  line: number;
}

export interface HeaderChange {
  /** Names whose definition changed: every unit that uses one must be compiled. */
  names: Set<string>;
  layouts: LayoutChange[];
  /** The changed names that are macros or typedefs: a record using one may change layout. */
  layoutNames: Set<string>;
  /** Conditional directives changed: which definitions apply may have changed, so every name the header defines counts. */
  conditionals: boolean;
}

const key = (it: CItem): string => `${it.kind}:${it.tag ?? ''}:${it.name ?? it.text}`;

function group(items: readonly CItem[]): Map<string, CItem[]> {
  const m = new Map<string, CItem[]>();
  for (const it of items) {
    if (it.kind === 'include' || it.kind === 'directive') continue;
    const k = key(it);
    m.set(k, [...(m.get(k) ?? []), it]);
  }
  return m;
}

/** A macro-named declaration (`DECLARE_PER_CPU(int, x);`) stands for the lower-case names it declares. */
export function namesOf(it: CItem): string[] {
  // an enum's constants are names of their own (an anonymous enum has no other)
  if (it.kind === 'record' && it.tag === 'enum') return [...(it.name ? [it.name] : []), ...members(it).map((m) => m.split(' ')[0] as string)];
  if (it.kind !== 'declaration' || (it.name && !/^[A-Z0-9_]+$/.test(it.name))) return it.name ? [it.name] : [];
  return [...it.identifiers].filter((n) => /[a-z]/.test(n) && !C_WORDS.has(n));
}

const C_WORDS = new Set([
  'struct', 'union', 'enum', 'typedef', 'static', 'extern', 'inline', 'const', 'volatile', 'unsigned', 'signed', 'int', 'long', 'short', 'char',
  'void', 'bool', 'float', 'double', 'return', 'if', 'else', 'for', 'while', 'do', 'switch', 'case', 'default', 'break', 'continue', 'sizeof',
  'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'size_t',
]);

/** The members of a record's body: its text between the outer braces split at `;` (`,` for an enum). */
function members(it: CItem): string[] {
  const toks = tokens(it.text);
  const open = toks.indexOf('{');
  const close = toks.lastIndexOf('}');
  const body = toks.slice(open + 1, close);
  const sep = it.tag === 'enum' ? ',' : ';';
  const out: string[] = [];
  let cur: string[] = [];
  let depth = 0;
  for (const t of body) {
    if (t === '{' || t === '(' || t === '[') depth++;
    if (t === '}' || t === ')' || t === ']') depth--;
    if (t === sep && depth === 0) {
      out.push(cur.join(' '));
      cur = [];
    } else cur.push(t);
  }
  if (cur.length) out.push(cur.join(' '));
  return out.filter((m) => m.length > 0);
}

function layoutChange(orig: CItem, patched: CItem): LayoutChange | undefined {
  const a = members(orig);
  const b = members(patched);
  // an enum that only gains constants at its end keeps every value it had
  if (orig.tag === 'enum' && b.length > a.length && a.every((m, i) => b[i] === m)) return undefined;
  const k = a.findIndex((m, i) => b[i] !== m);
  const at = k < 0 ? a.length : k;
  const member = b[at] ?? a[at] ?? '(the record as a whole)';
  return { record: `${orig.tag ?? 'struct'} ${orig.name ?? '(anonymous)'}`, member, line: patched.start };
}

/** Compares a header as released and as patched. */
export function headerChange(orig: string, patched: string): HeaderChange {
  const before = splitItems(orig);
  const after = splitItems(patched);
  const a = group(before);
  const b = group(after);
  const names = new Set<string>();
  const layouts: LayoutChange[] = [];
  const layoutNames = new Set<string>();
  const add = (it: CItem): void => {
    for (const n of namesOf(it)) {
      names.add(n);
      if (it.kind === 'macro' || it.text.startsWith('typedef')) layoutNames.add(n);
    }
  };
  let conditionals = false;
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k) ?? [];
    const y = b.get(k) ?? [];
    if (x.length === y.length && x.every((it, i) => it.text === (y[i] as CItem).text)) continue;
    const sample = (y[0] ?? x[0]) as CItem;
    if (sample.kind === 'conditional') {
      conditionals = true;
      continue;
    }
    if (sample.kind === 'record' && x.length && y.length) {
      for (const [i, it] of x.entries()) {
        const other = y[i];
        const change = other ? layoutChange(it, other) : undefined;
        if (change) layouts.push(change);
        // the constants an enum gains at its end are new names
        else if (other && it.text !== other.text) for (const m of members(other).slice(members(it).length)) names.add(m.split(' ')[0] as string);
      }
      continue;
    }
    for (const it of [...x, ...y]) add(it);
  }
  if (conditionals) after.forEach(add);
  return { names, layoutNames, layouts, conditionals };
}
