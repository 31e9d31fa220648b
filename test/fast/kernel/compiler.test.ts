import { describe, expect, it } from 'vitest';
import { gccComment, parseGccCompiler } from '../../../src/kernel/compiler.js';

describe('a kernel compiler as Debian names it', () => {
  it('reads CONFIG_CC_VERSION_TEXT and the .comment string as the same compiler', () => {
    const fromConfig = parseGccCompiler('x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0');
    const fromComment = parseGccCompiler('GCC: (Debian 14.2.0-19) 14.2.0');
    expect(fromConfig).toEqual({ vendor: 'Debian 14.2.0-19', version: '14.2.0', versionText: '14.2.0', major: 14, debianVersion: '14.2.0-19', packageName: 'gcc-14' });
    expect(fromComment).toEqual(fromConfig);
    expect(parseGccCompiler('gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0')).toMatchObject({ debianVersion: '12.2.0-14+deb12u1', packageName: 'gcc-12' });
  });

  it('writes back the .comment string gcc puts into objects', () => {
    const c = parseGccCompiler('gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
    expect(c && gccComment(c)).toBe('GCC: (Debian 12.2.0-14+deb12u1) 12.2.0');
  });

  it('keeps the date some builds print after the version', () => {
    const c = parseGccCompiler('GCC: (GNU) 13.2.1 20230801');
    expect(c && gccComment(c)).toBe('GCC: (GNU) 13.2.1 20230801');
  });

  it('has no Debian version for another vendor, and no compiler for clang or junk', () => {
    expect(parseGccCompiler('GCC: (Ubuntu 13.2.0-4ubuntu3) 13.2.0')).toMatchObject({ major: 13, debianVersion: undefined });
    expect(parseGccCompiler('GCC: (GNU) 13.2.1 20230801')).toMatchObject({ vendor: 'GNU', version: '13.2.1', debianVersion: undefined });
    expect(parseGccCompiler('Debian clang version 16.0.6 (15)')).toBeUndefined();
    expect(parseGccCompiler('unknown')).toBeUndefined();
  });
});
