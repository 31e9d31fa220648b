import { describe, expect, it } from 'vitest';
import { STB_GLOBAL, STB_LOCAL, STT_FILE, STT_FUNC, STT_OBJECT } from '../../../src/elf/constants.js';
import type { ElfSymbol } from '../../../src/elf/model.js';
import { fileBlocks, findSympos, matchFileBlock } from '../../../src/klp/sympos.js';

let n = 0;
const sym = (name: string, type: number, bind: number, value: bigint): ElfSymbol =>
  ({ index: n++, name, value, size: 8, bind, type, other: 0, section: null, shndx: 1 }) as ElfSymbol;

// Two files named base.c, each with a static show(); a third file with another show().
const table: ElfSymbol[] = [
  sym('base.c', STT_FILE, STB_LOCAL, 0n),
  sym('show', STT_FUNC, STB_LOCAL, 0x3000n),
  sym('drv_probe', STT_FUNC, STB_LOCAL, 0x3100n),
  sym('util.c', STT_FILE, STB_LOCAL, 0n),
  sym('show', STT_FUNC, STB_LOCAL, 0x1000n),
  sym('base.c', STT_FILE, STB_LOCAL, 0n),
  sym('show', STT_FUNC, STB_LOCAL, 0x2000n),
  sym('proc_base_lookup', STT_FUNC, STB_LOCAL, 0x2100n),
  sym('counter', STT_OBJECT, STB_LOCAL, 0x9000n),
  sym('vfs_read', STT_FUNC, STB_GLOBAL, 0x500n),
];

describe('sympos', () => {
  const blocks = fileBlocks(table);

  it('splits the table into FILE blocks of locals', () => {
    expect(blocks.map((b) => [b.file, [...b.localNames]])).toEqual([
      ['base.c', ['show', 'drv_probe']],
      ['util.c', ['show']],
      ['base.c', ['show', 'proc_base_lookup', 'counter']],
    ]);
  });

  it('tells same-named files apart by their locals', () => {
    const m = matchFileBlock(blocks, 'base.c', ['show', 'proc_base_lookup', 'counter']);
    expect(m?.block).toBe(blocks[2]);
    expect(m?.score).toBe(1);
    expect(matchFileBlock(blocks, 'base.c', ['show'])).toBeUndefined(); // both base.c blocks fit: ambiguous
    expect(matchFileBlock(blocks, 'nope.c', ['show'])).toBeUndefined();
  });

  it('counts positions in address order for vmlinux', () => {
    const ours = matchFileBlock(blocks, 'base.c', ['show', 'proc_base_lookup'])?.block;
    // show at 0x1000 (util.c), 0x2000 (ours), 0x3000 (other base.c) → position 2
    expect(findSympos(table, 'show', 'address', ours)).toMatchObject({ sympos: 2 });
    expect(findSympos(table, 'show', 'table', ours)).toMatchObject({ sympos: 3 });
  });

  it('gives 0 for a unique name, and refuses a repeated name without a block', () => {
    expect(findSympos(table, 'vfs_read', 'address')).toMatchObject({ sympos: 0 });
    expect(findSympos(table, 'show', 'address')).toEqual({ error: 'ambiguous', candidates: 3 });
    expect(findSympos(table, 'absent', 'address')).toEqual({ error: 'missing', candidates: 0 });
  });

  it('refuses a unique name that lives in another file\'s block', () => {
    const ours = matchFileBlock(blocks, 'base.c', ['show', 'proc_base_lookup', 'counter'])?.block;
    // drv_probe is unique, but it is the other base.c's static
    expect(findSympos(table, 'drv_probe', 'address', ours)).toEqual({ error: 'missing', candidates: 1 });
    expect(findSympos(table, 'counter', 'address', ours)).toMatchObject({ sympos: 0 });
  });
});
