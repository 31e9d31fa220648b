// A C header split into its top-level items: preprocessor directives (a
// macro definition with its continuation lines, an #include, a conditional)
// and C items (a function definition, a struct/union/enum definition, any
// other declaration up to its `;`). Only what header support needs: where
// each item is, what it defines, and its text without comments or layout,
// so that two versions of a header can be compared item by item. Not a C
// parser: an item it cannot name is kept with no name, never dropped.

export type ItemKind = 'macro' | 'include' | 'conditional' | 'directive' | 'function' | 'record' | 'declaration';

export interface CItem {
  kind: ItemKind;
  /** What the item defines: the macro, function, struct/union/enum tag or typedef, declared name; undefined when unknown. */
  name?: string;
  /** `struct`, `union` or `enum` for a record. */
  tag?: string;
  /** First and last line, 1-based. */
  start: number;
  end: number;
  /** The item's tokens joined by one space: equal texts are equal items. */
  text: string;
  /** Every identifier the item mentions. */
  identifiers: Set<string>;
}

/** The text with comments replaced by spaces (newlines kept, so lines stay where they were). */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '/' && next === '/') {
      let stop = src.indexOf('\n', i);
      if (stop < 0) stop = src.length;
      // a // comment ending in a backslash goes on to the next line, as the preprocessor reads it
      while (src[stop - 1] === '\\' && stop < src.length) {
        const more = src.indexOf('\n', stop + 1);
        stop = more < 0 ? src.length : more;
      }
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const TOKEN = /[A-Za-z_][A-Za-z0-9_]*|0[xX][0-9a-fA-F]+[uUlL]*|\d[\w.]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|->|\+\+|--|<<=?|>>=?|[<>=!&|^+\-*/%]=|&&|\|\||##|\.\.\.|\S/g;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function tokens(text: string): string[] {
  return text.replace(/\\\n/g, ' ').match(TOKEN) ?? [];
}

/** Attribute-like names that take arguments before or after a function's name, never the name itself. */
const ATTRIBUTE = /^(__attribute__|__attribute|__printf|__scanf|__acquires|__releases|__must_hold|__cond_acquires|__cond_lock|__section|__aligned|__alloc_size|__diag\w*|__malloc|__assume_aligned|__counted_by|__realloc_size|__no_sanitize\w*|__nocfi|__symver|asm|__asm__|__asm|alignas|_Alignas|__typeof__|typeof|__typeof|sizeof|__must_be_array)$/;

/** The items of a C source, in order. */
export function splitItems(src: string): CItem[] {
  const lines = stripComments(src).split('\n');
  const items: CItem[] = [];
  let pending: { start: number; parts: string[]; head?: string } | undefined;
  let depth = 0;
  const flush = (end: number): void => {
    if (!pending) return;
    const text = pending.parts.join('\n');
    const toks = tokens(text);
    if (toks.length) items.push(cItem(toks, pending.start, end));
    pending = undefined;
    depth = 0;
  };
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    const first = n + 1;
    if (/^\s*#/.test(line)) {
      // a directive and its continuation lines
      let end = n;
      while (/\\\s*$/.test(lines[end] as string) && end + 1 < lines.length) end++;
      const text = lines.slice(n, end + 1).join('\n');
      // inside braces (a struct's #ifdef'd members) a directive belongs to its item; at depth 0 it
      // ends what came before (a macro invocation with no `;`, `DEFINE_GUARD(…)`)
      if (pending && depth > 0) pending.parts.push(text);
      else {
        flush(n);
        items.push(directiveItem(text, first, end + 1));
      }
      n = end;
      continue;
    }
    // C text: an item ends at a `;` at depth 0, or at the `}` closing a function body
    let from = 0;
    for (let k = 0; k < line.length; k++) {
      const c = line[k] as string;
      if (c === '"' || c === "'") {
        let j = k + 1;
        while (j < line.length && line[j] !== c) j += line[j] === '\\' ? 2 : 1;
        k = j;
        pending ??= { start: first, parts: [] };
        continue;
      }
      if (!/\s/.test(c)) pending ??= { start: first, parts: [] };
      // the text before an item's first brace, kept once: whether a `}` ends a function body is read from it
      if (c === '{' && depth === 0 && pending && pending.head === undefined) pending.head = [...pending.parts, line.slice(from, k)].join('\n');
      if (c === '{' || c === '(' || c === '[') depth++;
      else if (c === '}' || c === ')' || c === ']') depth = Math.max(0, depth - 1);
      const ends = (c === ';' && depth === 0) || (c === '}' && depth === 0 && pending?.head !== undefined && isFunctionHead(`${pending.head} {`));
      if (ends && pending) {
        pending.parts.push(line.slice(from, k + 1));
        flush(first);
        from = k + 1;
      }
    }
    if (pending) pending.parts.push(line.slice(from));
  }
  flush(lines.length);
  return items;
}

/** Text up to a body's closing brace: a function definition when a `)` (then attributes) comes right before the first `{`. */
function isFunctionHead(text: string): boolean {
  const toks = tokens(text);
  const brace = toks.indexOf('{');
  if (brace <= 0) return false;
  const head = toks.slice(0, brace);
  if (head[0] === 'struct' || head[0] === 'union' || head[0] === 'enum' || head.includes('=') || head[0] === 'typedef') return false;
  return head.includes('(') && (head[head.length - 1] === ')' || IDENT.test(head[head.length - 1] as string));
}

function directiveItem(text: string, start: number, end: number): CItem {
  const toks = tokens(text);
  const word = toks[1] ?? '';
  const base = { start, end, text: toks.join(' '), identifiers: identifiersOf(toks.slice(2)) };
  if (word === 'define' || word === 'undef') return { kind: 'macro', ...(toks[2] ? { name: toks[2] } : {}), ...base };
  if (word === 'include' || word === 'include_next') return { kind: 'include', ...base };
  if (/^(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)$/.test(word)) return { kind: 'conditional', ...base };
  return { kind: 'directive', ...base };
}

function identifiersOf(toks: readonly string[]): Set<string> {
  return new Set(toks.filter((t) => IDENT.test(t)));
}

function cItem(toks: string[], start: number, end: number): CItem {
  const base = { start, end, text: toks.join(' '), identifiers: identifiersOf(toks) };
  const brace = toks.indexOf('{');
  const head = brace < 0 ? toks : toks.slice(0, brace);
  const rec = head.findIndex((t) => t === 'struct' || t === 'union' || t === 'enum');
  if (brace >= 0 && rec >= 0 && !head.slice(0, rec).includes('(') && head[0] !== 'static' && head[0] !== 'extern') {
    const typedef = head[0] === 'typedef';
    const tagName = IDENT.test(head[rec + 1] ?? '') ? head[rec + 1] : undefined;
    const name = typedef ? lastDeclared(toks) : tagName;
    return { kind: 'record', tag: head[rec] as string, ...(name ? { name } : {}), ...base };
  }
  if (brace >= 0 && toks[toks.length - 1] === '}' && isFunctionHead(toks.join(' '))) {
    const name = functionName(head);
    return { kind: 'function', ...(name ? { name } : {}), ...base };
  }
  if (head[0] === 'typedef' || head.includes('(') || head.includes('=') || head.includes('[') || IDENT.test(head[head.length - 2] ?? '')) {
    // a prototype is named by its declarator; an array or initialised variable by the name before `[` or `=`
    const paren = head.indexOf('(');
    const other = head.findIndex((t) => t === '[' || t === '=');
    const name = paren >= 0 && (other < 0 || paren < other) && head[0] !== 'typedef' ? functionName(head) : lastDeclared(toks);
    return { kind: 'declaration', ...(name ? { name } : {}), ...base };
  }
  return { kind: 'declaration', ...base };
}

/** The function's name: the last identifier, not an attribute, followed by `(` at depth 0. */
function functionName(head: readonly string[]): string | undefined {
  let depth = 0;
  let name: string | undefined;
  for (let k = 0; k < head.length; k++) {
    const t = head[k] as string;
    if (t === '(') {
      const before = head[k - 1];
      if (depth === 0 && before && IDENT.test(before) && !ATTRIBUTE.test(before)) name = before;
      depth++;
    } else if (t === ')') depth--;
  }
  return name;
}

/** The name a declaration or typedef declares: the last identifier at depth 0 before `;`, `=`, `[` or `:`. */
function lastDeclared(toks: readonly string[]): string | undefined {
  let depth = 0;
  let name: string | undefined;
  for (const t of toks) {
    if (t === '{' || t === '(' || t === '[') {
      if (t === '[' && depth === 0) break;
      depth++;
    } else if (t === '}' || t === ')' || t === ']') depth--;
    else if (depth === 0 && (t === '=' || t === ';' || t === ':')) break;
    else if (depth === 0 && IDENT.test(t) && !ATTRIBUTE.test(t)) name = t;
  }
  return name;
}
