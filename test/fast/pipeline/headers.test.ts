import { describe, expect, it } from 'vitest';
import { splitItems, stripComments } from '../../../src/pipeline/headers/c-items.js';
import { headerChange } from '../../../src/pipeline/headers/header-changes.js';
import { shadowHeaders } from '../../../src/kbuild/unit-command.js';

const HEADER = `/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _X_H
#define _X_H
#include <linux/types.h>

#define X_MAX 16 /* the most */
#define x_twice(v) \\
	((v) * 2)

struct x_state {
	int count;
	char name[X_MAX];
};

enum x_mode { X_OFF, X_ON };

typedef unsigned long x_word_t;

extern int x_register(struct x_state *s);

static inline int x_count(const struct x_state *s)
{
	if (s->count > 0) {
		return s->count; // positive
	}
	return 0;
}

static __always_inline __printf(2, 3) void x_log(int level, const char *fmt, ...) { }

DECLARE_PER_CPU(int, x_percpu);

#endif
`;

describe('a header split into its top-level items', () => {
  it('names each macro, record, typedef, declaration and function, with its lines', () => {
    const items = splitItems(HEADER).map((i) => [i.kind, i.tag, i.name, i.start, i.end]);
    expect(items).toEqual([
      ['conditional', undefined, undefined, 2, 2],
      ['macro', undefined, '_X_H', 3, 3],
      ['include', undefined, undefined, 4, 4],
      ['macro', undefined, 'X_MAX', 6, 6],
      ['macro', undefined, 'x_twice', 7, 8],
      ['record', 'struct', 'x_state', 10, 13],
      ['record', 'enum', 'x_mode', 15, 15],
      ['declaration', undefined, 'x_word_t', 17, 17],
      ['declaration', undefined, 'x_register', 19, 19],
      ['function', undefined, 'x_count', 21, 27],
      ['function', undefined, 'x_log', 29, 29],
      ['declaration', undefined, 'DECLARE_PER_CPU', 31, 31],
      ['conditional', undefined, undefined, 33, 33],
    ]);
  });

  it('drops comments but keeps lines, strings and what a // comment continues', () => {
    expect(stripComments('a /* b\nc */ d // e\nf "/* g */"')).toBe('a     \n     d     \nf "/* g */"');
  });
});

describe("what a header's change changes", () => {
  const change = (from: string, to: string) => headerChange(HEADER, HEADER.replace(from, to));

  it('a changed inline function, macro or declaration: its name', () => {
    expect([...change('return s->count; // positive', 'return s->count + 1;').names]).toEqual(['x_count']);
    expect([...change('#define X_MAX 16', '#define X_MAX 32').names]).toEqual(['X_MAX']);
    expect(change('#define X_MAX 16', '#define X_MAX 32').layoutNames.has('X_MAX')).toBe(true);
    expect([...change('struct x_state *s);', 'struct x_state *s, int flags);').names]).toEqual(['x_register']);
    expect([...change('DECLARE_PER_CPU(int, x_percpu);', 'DECLARE_PER_CPU(long, x_percpu);').names]).toEqual(['x_percpu']);
  });

  it('comments and layout alone change nothing', () => {
    const c = change('return s->count; // positive', 'return   s->count;   /* still positive */');
    expect([...c.names]).toEqual([]);
    expect(c.layouts).toEqual([]);
  });

  it('new helpers and declarations are new names; a new enum constant at the end is allowed', () => {
    expect([...change('#endif\n', 'static inline int x_new(void) { return 1; }\n#endif\n').names]).toEqual(['x_new']);
    const e = change('enum x_mode { X_OFF, X_ON };', 'enum x_mode { X_OFF, X_ON, X_AUTO };');
    expect(e.layouts).toEqual([]);
    expect([...e.names]).toEqual(['X_AUTO']);
  });

  it("a struct's members, or an enum's values, changed: a layout change naming the record and the member", () => {
    expect(change('\tint count;\n', '\tint count;\n\tint added;\n').layouts).toEqual([{ record: 'struct x_state', member: 'int added', line: 10 }]);
    expect(change('\tint count;\n', '\tlong count;\n').layouts[0]?.member).toBe('long count');
    expect(change('enum x_mode { X_OFF, X_ON };', 'enum x_mode { X_AUTO, X_OFF, X_ON };').layouts[0]).toMatchObject({ record: 'enum x_mode', member: 'X_AUTO' });
  });

  it('a changed conditional counts every name the header defines', () => {
    const c = change('#ifndef _X_H', '#if !defined(_X_H)');
    expect(c.conditionals).toBe(true);
    expect(c.names.has('x_count') && c.names.has('X_MAX')).toBe(true);
  });
});

describe('patched headers shadow the tree', () => {
  const cc = ['gcc', '-nostdinc', '-I./arch/x86/include', '-I', './include', '-I./include/uapi', '-isystem', '/usr/lib/gcc/include', '-include', './include/linux/kconfig.h', '-iquote', 'fs/proc', '-c', 'x.c'];

  it("puts the overlay's directory before each include directory holding a patched header, and nowhere else", () => {
    expect(shadowHeaders(cc, '/o', ['include/linux/time_namespace.h'])).toEqual([
      'gcc', '-nostdinc', '-I./arch/x86/include', '-I', '/o/include', '-I', './include', '-I./include/uapi', '-isystem', '/usr/lib/gcc/include',
      '-include', './include/linux/kconfig.h', '-iquote', 'fs/proc', '-c', 'x.c',
    ]);
  });

  it('a local header of a directory: its quoted includes; a forced include: the overlay copy', () => {
    const out = shadowHeaders(cc, '/o', ['fs/proc/internal.h', 'include/linux/kconfig.h']);
    expect(out.slice(3, 7)).toEqual(['-I', '/o/include', '-I', './include']);
    expect(out.slice(out.indexOf('-iquote') - 2)).toEqual(['-include', '/o/include/linux/kconfig.h', '-iquote', '/o/fs/proc', '-iquote', 'fs/proc', '-c', 'x.c']);
  });
});
