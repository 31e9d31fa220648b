import { spawn, spawnSync } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderRelocationSection } from '../../src/cli/actions/elf.js';
import { ET_EXEC } from '../../src/elf/constants.js';
import { findSymtab } from '../../src/elf/edit.js';
import { buildIndex } from '../../src/elf/lookup.js';
import { readSymbolTable } from '../../src/elf/symtab.js';
import { openElfSymbols, readElfSymbols } from '../../src/elf/files.js';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { normalizeWhitespace } from '../helpers/elf-fixtures.js';
import { expectDumpLikeReadelf } from '../helpers/elf-oracles.js';
import { runCliProcess } from '../helpers/run-cli.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// The release's 590 MB vmlinux: only its header tables and symbol table are read.

let ws: KernelWorkspace;
beforeAll(async () => {
  ws = await defaultWorkspace();
}, 10 * 60_000);

/** readelf -rW's blocks for the named relocation sections, read as a stream (the whole dump is over a GB). */
async function readelfRelocationBlocks(file: string, names: string[]): Promise<Map<string, string>> {
  const child = spawn('readelf', ['-rW', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  const blocks = new Map<string, string[]>();
  let current: string[] | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const head = /^Relocation section '([^']+)'/.exec(line);
    if (head) {
      current = names.includes(head[1] as string) ? [] : undefined;
      if (current) blocks.set(head[1] as string, current);
    }
    current?.push(line);
  }
  return new Map([...blocks].map(([k, v]) => [k, v.join('\n')]));
}

describe('vmlinux symbol table', () => {
  it('is read from the header tables, .symtab and .strtab only', async () => {
    const fh = await fsp.open(ws.vmlinux, 'r');
    let bytesRead = 0;
    try {
      const size = (await fh.stat()).size;
      expect(size).toBeGreaterThan(100 * 1024 * 1024);
      const elf = await readSymbolTable(
        async (offset, length) => {
          bytesRead += length;
          const buf = new Uint8Array(length);
          await fh.read(buf, 0, length, offset);
          return buf;
        },
        { file: ws.vmlinux, size },
      );
      expect(elf.header.type).toBe(ET_EXEC);
      const sizeOf = (n: string) => elf.sections.find((s) => s.name === n)?.size ?? 0;
      expect(bytesRead).toBe(64 + elf.sections.length * 64 + sizeOf('.shstrtab') + sizeOf('.symtab') + sizeOf('.strtab'));
      expect(bytesRead).toBeLessThan(size / 50);
    } finally {
      await fh.close();
    }
  });

  it('elf dump --sections and --symbols print what readelf prints', async () => {
    await expectDumpLikeReadelf(ws.vmlinux, '--sections');
    await expectDumpLikeReadelf(ws.vmlinux, '--symbols');
  });

  it('relocation sections stream out as readelf prints them', async () => {
    const names = ['.rela__ksymtab', '.rela__param', '.rela.pci_fixup'];
    const theirs = await readelfRelocationBlocks(ws.vmlinux, names);
    const open = await openElfSymbols(ws.vmlinux);
    try {
      for (const name of names) {
        const s = open.file.sections.find((x) => x.name === name);
        if (!s) throw new Error(`no ${name}`);
        const relas = [];
        for await (const chunk of open.relocations(s, 1000)) relas.push(...chunk);
        expect(relas.length).toBeGreaterThan(100);
        expect(normalizeWhitespace(renderRelocationSection(s, relas)), name).toBe(normalizeWhitespace(theirs.get(name) ?? ''));
      }
    } finally {
      await open.close();
    }
  });

  it('answers lookups the way System.map does', async () => {
    const elf = await readElfSymbols(ws.vmlinux);
    const idx = buildIndex(elf);
    const text = idx.findSectionByName('.text');
    if (!text) throw new Error('no .text');
    const map = readFileSync(ws.systemMap, 'utf8');
    const address = BigInt(`0x${/^([0-9a-f]+) [tT] cmdline_proc_show$/m.exec(map)?.[1] ?? '0'}`);
    expect(idx.findSymbolContaining(text, address + 5n)?.name).toBe('cmdline_proc_show');
    const files = (findSymtab(elf)?.symbols ?? []).filter((s) => s.type === 4);
    expect(files.length).toBeGreaterThan(1000);
    // duplicated local names exist; each is found
    const counts = new Map<string, number>();
    for (const s of findSymtab(elf)?.symbols ?? []) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    const dup = [...counts].find(([n, c]) => c > 3 && n.length > 3 && !n.startsWith('__'));
    expect(dup && idx.findSymbolsByName(dup[0])).toHaveLength(dup?.[1] ?? -1);
    const readelfCount = spawnSync('readelf', ['-sW', ws.vmlinux], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }).stdout.match(/contains (\d+) entries/)?.[1];
    expect(findSymtab(elf)?.symbols?.length).toBe(Number(readelfCount));
  });

  it("kernel users lists the units whose line tables name a header, and each of them includes it; readelf sees the same tables", async () => {
    const r = await runCliProcess(['kernel', 'users', ws.release, 'fs/proc/internal.h', './fs/proc/../proc/internal.h', '--json'], { REBOOTLESS_CACHE: sharedCache() });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { units: number; lineTables: boolean; files: { file: string; units: string[] }[] };
    expect(out.lineTables).toBe(true);
    // readelf's count of line programs of vmlinux
    const programs = spawnSync('sh', ['-c', `readelf --debug-dump=rawline ${ws.vmlinux} | grep -c '^  DWARF Version:'`], { encoding: 'utf8' }).stdout.trim();
    expect(out.units).toBe(Number(programs));
    const [asked, normalized] = out.files;
    expect(asked?.file).toBe('fs/proc/internal.h');
    expect(normalized).toEqual(asked);
    expect(asked?.units).toContain('fs/proc/base.c');
    expect(asked?.units.length).toBeGreaterThan(10);
    // every unit named includes the header (directly: fs/proc's units, or as proc/internal.h)
    for (const unit of asked?.units ?? []) expect(readFileSync(`${ws.sourceTree}/${unit}`, 'utf8'), unit).toMatch(/#include\s+"(\.\.\/)?(proc\/)?internal\.h"/);
  });
});
