import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shellCommand, shellQuote } from '../../../src/util/shell.js';

// Quoted text goes through a real shell and must come back as it went in:
// the host's sh, and busybox sh (the guest's shell) when the host has it.

const NASTY = [
  '',
  ' ',
  'plain',
  "it's",
  "''",
  '"double"',
  'two words',
  'tab\there',
  'new\nline',
  'trailing newline\n',
  '$HOME',
  '${x:-y}',
  '$(echo no)',
  '`echo no`',
  'back\\slash',
  '\\',
  "\\'",
  'glob*?[a]',
  '~',
  '~root',
  'a;b|c&d',
  '<in >out',
  '#comment',
  '-n',
  '--',
  'FOO=1',
  '!',
  'ünïcödé',
  "'\"'\"'",
];

const shells = [['sh'], ...(existsSync('/bin/busybox') ? [['/bin/busybox', 'sh']] : [])];

/** The argv a shell command line runs, as printf sees it. */
function argvThrough(shell: string[], line: string): string[] {
  const [file, ...pre] = shell as [string, ...string[]];
  const out = execFileSync(file, [...pre, '-c', `printf '%s\\0' ${line}`], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
  return out.split('\0').slice(0, -1);
}

describe.each(shells)('shell quoting through %s', (...shell) => {
  it('quotes each nasty word so the shell gives it back unchanged', () => {
    for (const w of NASTY) expect(argvThrough(shell, shellQuote(w)), JSON.stringify(w)).toEqual([w]);
  });

  it('keeps words apart: a command line of several words is that argv', () => {
    expect(argvThrough(shell, NASTY.map(shellQuote).join(' '))).toEqual(NASTY);
  });

  it('runs exactly argv: exit statuses, apostrophes, assignments and keywords as programs', () => {
    const [file, ...pre] = shell as [string, ...string[]];
    const run = (argv: string[]) => spawnSync(file, [...pre, '-c', shellCommand(argv)], { encoding: 'utf8' });
    expect(run(['sh', '-c', 'exit 7']).status).toBe(7);
    expect(run(['echo', "it's"]).stdout).toBe("it's\n");
    expect(run(['printf', '%s|', ...NASTY]).stdout).toBe(NASTY.map((w) => `${w}|`).join(''));
    // a program named like an assignment or a keyword is looked up, not parsed
    expect(run(['FOO=1', 'true']).status).toBe(127);
    expect(run(["it's=1"]).status).toBe(127);
    expect(run(['if']).status).toBe(127);
    expect(run(['{']).status).toBe(127);
  });
});

describe('shell quoting', () => {
  it('leaves plain words bare so messages stay readable', () => {
    expect(shellCommand(['make', '-C', '/usr/src/linux', 'M=/tmp/x', 'fs/proc/meminfo.o'])).toBe("make -C /usr/src/linux M=/tmp/x fs/proc/meminfo.o");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});
