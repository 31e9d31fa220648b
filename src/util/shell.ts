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
