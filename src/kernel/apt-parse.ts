import type { AptKernelIndex } from './release.js';

// Pure parsers for the text apt-cache prints.

/** `apt-cache madison` lines: `pkg | version | archive`. Returns package → versions (as listed). */
export function parseMadison(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length < 3 || !cols[0] || !cols[1]) continue;
    const [pkg, version] = cols as [string, string];
    const list = out.get(pkg) ?? [];
    if (!list.includes(version)) list.push(version);
    out.set(pkg, list);
  }
  return out;
}

/**
 * The archive suite of each `apt-cache madison` line
 * (`… | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages`):
 * package → version → suite, the first line of a version winning.
 */
export function parseMadisonSuites(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const line of text.split('\n')) {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length < 3 || !cols[0] || !cols[1]) continue;
    const [pkg, version, archive] = cols as [string, string, string];
    const suite = archive.split(/\s+/)[1]?.split('/')[0];
    if (!suite) continue;
    const byVersion = out.get(pkg) ?? new Map<string, string>();
    if (!byVersion.has(version)) byVersion.set(version, suite);
    out.set(pkg, byVersion);
  }
  return out;
}

/** A suite family's kernel index from its `apt-cache madison` output. */
export function parseMadisonIndex(family: string, text: string): AptKernelIndex {
  return { family, versions: parseMadison(text), suites: parseMadisonSuites(text) };
}

/** One `apt-cache show` stanza → field map (continuation lines joined). */
export function parseControlStanza(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  let key: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') {
      if (fields.size > 0) break;
      continue;
    }
    if (/^\s/.test(line) && key) {
      fields.set(key, `${fields.get(key) ?? ''}\n${line.trim()}`);
      continue;
    }
    const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (m) {
      key = m[1] as string;
      fields.set(key, m[2] as string);
    }
  }
  return fields;
}

export interface Dependency {
  name: string;
  relation?: string;
  version?: string;
}

/** A Depends field → the first alternative of each clause. */
export function parseDepends(field: string): Dependency[] {
  const deps: Dependency[] = [];
  for (const clause of field.split(',')) {
    const first = clause.split('|')[0]?.trim();
    if (!first) continue;
    const m = /^([a-z0-9][a-z0-9+.-]*)(?::\w+)?\s*(?:\(\s*(<<|<=|=|>=|>>)\s*([^)\s]+)\s*\))?/.exec(first);
    if (!m) continue;
    const dep: Dependency = { name: m[1] as string };
    if (m[2] && m[3]) {
      dep.relation = m[2];
      dep.version = m[3];
    }
    deps.push(dep);
  }
  return deps;
}
