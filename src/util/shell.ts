// The one quoting rule for text handed to a POSIX shell (the host's sh for
// messages people may paste, busybox sh in the guest): a word made only of
// characters no shell treats specially stays bare, anything else is put in
// single quotes, inside which only the quote itself needs care ('\'').

const BARE = /^[\w@%+=:,./-]+$/;

/** Words a shell reads as syntax, not as a program, in command position. */
const RESERVED = new Set(['!', '{', '}', '[[', ']]', 'case', 'do', 'done', 'elif', 'else', 'esac', 'fi', 'for', 'function', 'if', 'in', 'select', 'then', 'time', 'until', 'while']);

const singleQuoted = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** `arg` as one shell word that expands to exactly `arg`. */
export function shellQuote(arg: string): string {
  return BARE.test(arg) ? arg : singleQuoted(arg);
}

/**
 * A command line that runs exactly `argv` (program, then its arguments):
 * no word is split or expanded, and the program is never read as an
 * assignment (`A=B`) or a keyword (`if`), which only happens to a bare first word.
 */
export function shellCommand(argv: readonly string[]): string {
  return argv.map((a, i) => (i === 0 && (RESERVED.has(a) || a.includes('=')) ? singleQuoted(a) : shellQuote(a))).join(' ');
}

/** One token of a shell command line: a word (quotes removed) or an operator such as `;`, `|`, `>`, `&&`. */
export type ShellToken = { word: string } | { op: string };

/**
 * Splits a command line as a POSIX shell would into words and operators,
 * for the plain lines make and kbuild write: single and double quotes,
 * backslashes, and operators. Expansions (`$…`, backquotes) are not
 * evaluated: a line that has one outside single quotes throws. With
 * `maxWords`, stops after that many words (the rest is not read).
 */
export function shellWords(line: string, maxWords = Infinity): ShellToken[] {
  const out: ShellToken[] = [];
  let word: string | undefined;
  let words = 0;
  const end = (): void => {
    if (word !== undefined) {
      out.push({ word });
      words++;
    }
    word = undefined;
  };
  const expansion = (i: number): Error => new Error(`shell expansion at column ${i + 1} of: ${line}`);
  for (let i = 0; i < line.length && words < maxWords; ) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      end();
      i++;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unterminated quote in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      let s = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const d = line[j] as string;
        if (d === '$' || d === '`') throw expansion(j);
        if (d === '\\' && '$`"\\\n'.includes(line[j + 1] ?? '')) s += line[++j];
        else s += d;
      }
      if (j >= line.length) throw new Error(`unterminated quote in: ${line}`);
      word = (word ?? '') + s;
      i = j + 1;
    } else if (c === '\\') {
      if (line[i + 1] !== '\n') word = (word ?? '') + (line[i + 1] ?? '');
      i += 2;
    } else if (';&|<>()'.includes(c)) {
      end();
      const op = (c === '&' || c === '|' || c === '>' || c === ';') && line[i + 1] === c ? c + c : c;
      out.push({ op });
      i += op.length;
    } else if (c === '$' || c === '`') {
      throw expansion(i);
    } else if (c === '#' && word === undefined) {
      const nl = line.indexOf('\n', i);
      i = nl < 0 ? line.length : nl;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  end();
  return out;
}
