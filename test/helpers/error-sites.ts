import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** A `new RebootlessError('CODE', …)` in the source: the code it constructs and where. */
export interface ErrorSite {
  code: string;
  file: string;
  line: number;
}

/** A construction whose code is not a literal: the collector cannot tell which code it builds. */
export interface UnresolvedSite {
  file: string;
  line: number;
  text: string;
}

export interface ErrorSites {
  sites: ErrorSite[];
  unresolved: UnresolvedSite[];
}

const CLASS = 'RebootlessError';

function constructsError(e: ts.Expression): boolean {
  if (ts.isIdentifier(e)) return e.text === CLASS;
  return ts.isPropertyAccessExpression(e) && e.name.text === CLASS; // errors.RebootlessError
}

/** The literal under `('X')`, `'X' as const`, `'X' satisfies …`. */
function literal(e: ts.Expression): string | undefined {
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) return literal(e.expression);
  return ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) ? e.text : undefined;
}

/**
 * The error codes one source file constructs, read from its syntax tree, so a code named
 * in a comment or in an unrelated string is not a use. Every construction in src/ passes
 * the code as a literal; one that does not is returned as unresolved rather than guessed.
 */
export function errorSitesIn(text: string, file: string): ErrorSites {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ErrorSites = { sites: [], unresolved: [] };
  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) && constructsError(node.expression)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const first = node.arguments?.[0];
      const code = first && literal(first);
      if (code !== undefined) out.sites.push({ code, file, line });
      else out.unresolved.push({ file, line, text: node.getText(source).slice(0, 120) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return typeScriptFiles(p);
    return d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The error construction sites of every TypeScript file under `dir`, recursively. */
export function errorSitesUnder(dir: string): ErrorSites {
  const all: ErrorSites = { sites: [], unresolved: [] };
  for (const file of typeScriptFiles(dir)) {
    const found = errorSitesIn(readFileSync(file, 'utf8'), file);
    all.sites.push(...found.sites);
    all.unresolved.push(...found.unresolved);
  }
  return all;
}
