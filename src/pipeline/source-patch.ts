import path from 'node:path';
import { RebootlessError } from '../errors/index.js';

// The user's fix: a unified diff (git diff, diff -u) against the kernel tree.
// Parsed and applied here, purely, so every refusal can name the file, the
// hunk and the line.

export interface HunkLine {
  op: ' ' | '-' | '+';
  text: string;
}

export interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  lines: HunkLine[];
  /** Line of the `@@` header in the diff file (1-based). */
  at: number;
}

export interface FilePatch {
  /** Tree-relative path (after -p1), e.g. `fs/proc/cmdline.c`. */
  path: string;
  kind: 'modify' | 'create' | 'delete';
  hunks: Hunk[];
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** `a/fs/x.c` → `fs/x.c` (patch -p1), refusing anything that leaves the tree. */
export function treePath(raw: string, file: string): string {
  const clean = raw.split('\t')[0]?.trim() ?? '';
  const stripped = clean.split('/').slice(1).join('/');
  const norm = path.posix.normalize(stripped);
  if (!stripped || clean.startsWith('/') || norm.startsWith('..') || path.posix.isAbsolute(norm) || norm === '.') {
    throw new RebootlessError('PATCH_PATH_OUTSIDE', { file, path: clean });
  }
  return norm;
}

export function parseSourcePatch(text: string, file = '<patch>'): FilePatch[] {
  const lines = text.split('\n');
  const out: FilePatch[] = [];
  let i = 0;
  const bad = (line: number, detail: string): RebootlessError => new RebootlessError('PATCH_MALFORMED', { file, line, detail });
  while (i < lines.length) {
    const line = lines[i] as string;
    if (!line.startsWith('--- ') || !(lines[i + 1] ?? '').startsWith('+++ ')) {
      i++;
      continue;
    }
    const oldRaw = line.slice(4);
    const newRaw = (lines[i + 1] as string).slice(4);
    const oldNull = oldRaw.startsWith('/dev/null');
    const newNull = newRaw.startsWith('/dev/null');
    const fp: FilePatch = {
      path: newNull ? treePath(oldRaw, file) : treePath(newRaw, file),
      kind: oldNull ? 'create' : newNull ? 'delete' : 'modify',
      hunks: [],
    };
    if (!oldNull && !newNull && treePath(oldRaw, file) !== fp.path) throw bad(i + 1, `renames (${treePath(oldRaw, file)} → ${fp.path}) are not supported`);
    i += 2;
    while (i < lines.length && (lines[i] as string).startsWith('@@')) {
      const m = HUNK.exec(lines[i] as string);
      if (!m) throw bad(i + 1, `bad hunk header: ${lines[i] as string}`);
      const h: Hunk = {
        oldStart: Number(m[1]),
        oldCount: m[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m[3]),
        newCount: m[4] === undefined ? 1 : Number(m[4]),
        lines: [],
        at: i + 1,
      };
      i++;
      let olds = 0;
      let news = 0;
      while (olds < h.oldCount || news < h.newCount) {
        const l = lines[i];
        if (l === undefined) throw bad(i, `hunk at line ${h.at} ends early (the diff is truncated)`);
        if (l.startsWith('\\')) {
          i++;
          continue;
        }
        const op = (l === '' ? ' ' : l[0]) as HunkLine['op'];
        if (op !== ' ' && op !== '-' && op !== '+') throw bad(i + 1, `hunk at line ${h.at} has fewer lines than its header says`);
        h.lines.push({ op, text: l.slice(1) });
        if (op !== '+') olds++;
        if (op !== '-') news++;
        i++;
      }
      if (olds !== h.oldCount || news !== h.newCount) throw bad(h.at, 'hunk line counts do not match its header');
      while ((lines[i] ?? '').startsWith('\\')) i++;
      // patch(1) silently drops whatever follows a hunk that is longer than its header says, and with it any later hunk
      if (overrun(lines[i], lines[i + 1])) throw bad(i + 1, `hunk at line ${h.at} has more lines than its header says`);
      fp.hunks.push(h);
    }
    if (fp.hunks.length === 0 && fp.kind === 'modify') throw bad(i, `no hunks for ${fp.path}`);
    // `diff -N` marks a file that one side lacks with the epoch as its time, as patch(1) reads it
    if (fp.kind === 'modify' && fp.hunks.length === 1) {
      const h = fp.hunks[0] as Hunk;
      if (atEpoch(oldRaw) && h.oldStart === 0 && h.oldCount === 0) fp.kind = 'create';
      else if (atEpoch(newRaw) && h.newStart === 0 && h.newCount === 0) fp.kind = 'delete';
    }
    out.push(fp);
  }
  if (out.length === 0) throw new RebootlessError('PATCH_EMPTY', { file });
  return out;
}

/** A `---`/`+++` header line whose timestamp is the epoch (in any time zone). */
function atEpoch(raw: string): boolean {
  const m = /\t(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.\d+)? ([+-]\d{4})$/.exec(raw);
  if (!m) return false;
  const zone = `${(m[3] as string).slice(0, 3)}:${(m[3] as string).slice(3)}`;
  return Date.parse(`${m[1] as string}T${m[2] as string}${zone}`) === 0;
}

/** A diff line right after a complete hunk that still looks like hunk content (not a mail signature "-- " or the next file's header). */
function overrun(line: string | undefined, next: string | undefined): boolean {
  if (line === undefined || line === '-- ') return false;
  if (line.startsWith('--- ') && (next ?? '').startsWith('+++ ')) return false;
  return line.startsWith('+') || line.startsWith('-') || (line.startsWith(' ') && line.trim() !== '');
}

/** What kind of file a path is, when rebootless cannot take it (undefined: a C source it can). */
export function unsupportedKind(fp: FilePatch): string | undefined {
  const base = path.posix.basename(fp.path);
  // a header is compiled into every unit its change reaches (pipeline/headers); a new one into those that include it
  if (base.endsWith('.h') && fp.kind !== 'delete') return undefined;
  // a new C source goes in when the same diff adds its object to a Makefile (pipeline/new-files)
  if (base.endsWith('.c') && fp.kind === 'create') return undefined;
  if ((base === 'Makefile' || base === 'Kbuild') && fp.kind === 'modify') return undefined;
  if (fp.kind === 'create') return 'new files other than C sources and headers';
  if (fp.kind === 'delete') return 'deleted files';
  if (base.endsWith('.c')) return undefined;
  if (/\.[sS]$/.test(base)) return 'assembly files';
  if (base.startsWith('Kconfig')) return 'Kconfig files';
  if (base === 'Makefile' || base === 'Kbuild' || base.endsWith('.mk')) return 'Makefiles';
  return 'files other than C sources';
}

/** Refuses what rebootless cannot build yet, naming each file. */
export function checkSupported(patches: readonly FilePatch[], file: string): void {
  for (const fp of patches) {
    const kind = unsupportedKind(fp);
    if (kind) throw new RebootlessError('PATCH_UNSUPPORTED_FILE', { file, path: fp.path, kind });
  }
}

/**
 * Applies one file's hunks to its text, each at its line or, as patch(1)
 * does, at the nearest offset where its context matches exactly.
 */
export function applyFilePatch(text: string, fp: FilePatch, file = '<patch>'): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = text.split('\n');
  if (endsWithNewline) lines.pop();
  let delta = 0;
  let floor = 0;
  fp.hunks.forEach((h, n) => {
    const old = h.lines.filter((l) => l.op !== '+').map((l) => l.text);
    const neu = h.lines.filter((l) => l.op !== '-').map((l) => l.text);
    const want = Math.max(0, h.oldStart - 1 + delta - (h.oldCount === 0 ? -1 : 0));
    const fits = (at: number): boolean => at >= floor && at + old.length <= lines.length && old.every((t, k) => lines[at + k] === t);
    let at = -1;
    for (let d = 0; d <= lines.length; d++) {
      if (fits(want - d)) {
        at = want - d;
        break;
      }
      if (fits(want + d)) {
        at = want + d;
        break;
      }
    }
    if (at < 0) {
      const k = old.findIndex((t, j) => lines[want + j] !== t);
      const detail =
        k < 0 ? 'the file is too short' : `expected line ${want + k + 1} to be ${JSON.stringify(old[k])}, found ${JSON.stringify(lines[want + k] ?? '(end of file)')}`;
      throw new RebootlessError('PATCH_DOES_NOT_APPLY', { file, path: fp.path, hunk: n + 1, line: h.oldStart, detail });
    }
    lines.splice(at, old.length, ...neu);
    delta += neu.length - old.length + (at - want);
    floor = at + neu.length;
  });
  return lines.join('\n') + (endsWithNewline ? '\n' : '');
}
