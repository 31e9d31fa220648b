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

  it('a forward declaration added changes nothing', () => {
    expect([...change('#endif\n', 'struct x_other;\n#endif\n').names]).toEqual([]);
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

  it("an anonymous enum's changed constants, and an array declared with a computed size, are named", () => {
    const anon = headerChange('enum { X_A = 1, X_B = 2, };\n', 'enum { X_A = 1, X_B = 4, };\n');
    expect([...anon.names].sort()).toEqual(['X_A', 'X_B']);
    expect(anon.layouts).toEqual([]);
    expect([...headerChange('extern unsigned long x_stack[X_SIZE / sizeof(long)];\n', 'extern unsigned long x_stack[X_SIZE / sizeof(int)];\n').names]).toEqual(['x_stack']);
  });

  it('a new conditional block counts the definitions inside it, not the rest of the header', () => {
    const c = change('#endif\n', '#ifdef CONFIG_X_NEW\nstatic inline int x_new(void) { return 1; }\n#else\n#define x_new() 0\n#endif\n#endif\n');
    expect(c.conditionals).toBe(true);
    expect([...c.names]).toEqual(['x_new']);
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

describe("what a header change reaches in a tree", () => {
  it('follows a changed macro through the inline helpers using it to the .c files calling them, and stops there', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { headerReach, searchRoots } = await import('../../../src/pipeline/headers/reach.js');
    const tree = mkdtempSync(path.join(os.tmpdir(), 'rb-reach-'));
    try {
      const put = (f: string, text: string): void => {
        mkdirSync(path.dirname(path.join(tree, f)), { recursive: true });
        writeFileSync(path.join(tree, f), text);
      };
      put('include/linux/x.h', '#define X_LIMIT 4\nstatic inline int x_ok(int v) { return v < X_LIMIT; }\nstatic inline int x_other(void) { return 0; }\n');
      put('include/linux/y.h', '#include <linux/x.h>\n#define Y_CHECK(v) x_ok(v)\nstruct y_box { int slots[X_LIMIT]; };\nstruct y_named { int X_LIMIT; };\n');
      put('fs/a/uses.c', 'int f(int v) { return Y_CHECK(v); }\n');
      put('fs/a/direct.c', 'int g(int v) { return x_ok(v); }\n');
      put('fs/a/other.c', 'int h(void) { return x_other(); }\n');
      put('drivers/unbuilt/z.c', 'int z(int v) { return x_ok(v); }\n');
      const roots = searchRoots(['fs/a', 'fs/a/sub', 'fs']);
      expect(roots).toEqual(['arch/x86/include', 'fs', 'include']);
      const r = await headerReach(tree, roots, new Map(), new Set(['x_ok']), new Set());
      expect((await headerReach(tree, roots, new Map(), new Set(['x_ok']), new Set(), { maxRounds: 1 })).sources).toEqual(['fs/a/direct.c']);
      expect(r.names.sort()).toEqual(['Y_CHECK', 'x_ok']);
      expect(r.sources).toEqual(['fs/a/direct.c', 'fs/a/uses.c']);
      expect(r.layouts).toEqual([]);
      expect(r.complete).toBe(true);
      // a changed macro sizing a record's member changes its layout
      const m = await headerReach(tree, ['fs', 'include'], new Map(), new Set(['X_LIMIT']), new Set(['X_LIMIT']));
      expect(m.layouts).toEqual([{ header: 'include/linux/y.h', record: 'struct y_box', member: 'uses X_LIMIT', line: 3 }]);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
