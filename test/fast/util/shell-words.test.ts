import { describe, expect, it } from 'vitest';
import { shellCommand, shellWords } from '../../../src/util/shell.js';

describe('shellWords', () => {
  it('undoes single, double and backslash quoting and splits operators', () => {
    expect(shellWords(`gcc -D'A="x y"' "-DB=\\"z\\"" a\\ b ; ld -o x`)).toEqual([
      { word: 'gcc' },
      { word: '-DA="x y"' },
      { word: '-DB="z"' },
      { word: 'a b' },
      { op: ';' },
      { word: 'ld' },
      { word: '-o' },
      { word: 'x' },
    ]);
    expect(shellWords("a 'it'\\''s' b")).toEqual([{ word: 'a' }, { word: "it's" }, { word: 'b' }]);
    expect(shellWords('a && b || c > d')).toEqual([{ word: 'a' }, { op: '&&' }, { word: 'b' }, { op: '||' }, { word: 'c' }, { op: '>' }, { word: 'd' }]);
  });

  it('reads back every argv shellCommand writes', () => {
    const argv = ['prog', "it's", 'a b', '$HOME', '"q"', 'x=y', 'a;b'];
    expect(shellWords(shellCommand(argv)).map((t) => ('word' in t ? t.word : t.op))).toEqual(argv);
  });

  it('refuses expansions outside single quotes, and stops after maxWords', () => {
    expect(() => shellWords('echo $HOME')).toThrow(/expansion/);
    expect(() => shellWords('echo "`id`"')).toThrow(/expansion/);
    expect(shellWords("echo '$HOME'")).toEqual([{ word: 'echo' }, { word: '$HOME' }]);
    expect(shellWords('a b c $X', 2)).toEqual([{ word: 'a' }, { word: 'b' }]);
  });
});
