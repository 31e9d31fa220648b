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
  /** Conditional directives changed: every definition of a block whose opening directive changed counts. */
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
  // a keyword or basic type is never a definition's name (a declaration the splitter misread)
  return namesIn(it).filter((n) => !C_WORDS.has(n));
}

function namesIn(it: CItem): string[] {
  // a forward declaration (`struct foo;`) changes no code
  if (it.kind === 'declaration' && /^(struct|union|enum) \w+ ;$/.test(it.text)) return [];
  // an enum's constants are names of their own (an anonymous enum has no other)
  if (it.kind === 'record' && it.tag === 'enum') return [...(it.name ? [it.name] : []), ...members(it).map((m) => m.split(' ')[0] as string)];
  if (it.kind !== 'declaration' || (it.name && !/^[A-Z0-9_]+$/.test(it.name))) return it.name ? [it.name] : [];
  return [...it.identifiers].filter((n) => /[a-z]/.test(n) && !C_WORDS.has(n));
}

const C_WORDS = new Set([
  'struct', 'union', 'enum', 'typedef', 'static', 'extern', 'inline', 'const', 'volatile', 'unsigned', 'signed', 'int', 'long', 'short', 'char',
  'void', 'bool', 'float', 'double', 'return', 'if', 'else', 'for', 'while', 'do', 'switch', 'case', 'default', 'break', 'continue', 'sizeof',
  'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'size_t', '_Bool', 'true', 'false', 'NULL', 'auto', 'register', 'restrict',
  'goto', '__inline', '__inline__', '__always_inline', 'noinline', '__init', '__exit', '__user', '__iomem', '__rcu', '__percpu', '__must_check',
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
      // an opening directive (#if, #ifdef, #ifndef, #elif) that is new, gone or different: every
      // definition of its block may apply or not; an #else or #endif alone comes with one of those
      if (/^# (if|ifdef|ifndef|elif)\b/.test(sample.text)) {
        for (const it of x) blockOf(before, it).forEach(add);
        for (const it of y) blockOf(after, it).forEach(add);
      }
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
  return { names, layoutNames, layouts, conditionals };
}

/** The items from conditional `start` to its #endif (its #elif and #else branches included). */
export function blockOf(items: readonly CItem[], start: CItem): CItem[] {
  let at = items.indexOf(start);
  // an #elif belongs to the block its #if opened: start from there
  for (let depth = 0; at > 0 && /^# elif\b/.test(start.text); ) {
    const t = (items[--at] as CItem).text;
    if (items[at]?.kind !== 'conditional') continue;
    if (t.startsWith('# endif')) depth++;
    else if (/^# if/.test(t)) {
      if (depth === 0) break;
      depth--;
    }
  }
  const out: CItem[] = [];
  let depth = 0;
  for (let k = at; k < items.length; k++) {
    const it = items[k] as CItem;
    out.push(it);
    if (it.kind !== 'conditional') continue;
    if (/^# if/.test(it.text)) depth++;
    else if (it.text.startsWith('# endif') && --depth === 0) break;
  }
  return out;
}
