import { execFile, execFileSync } from 'node:child_process';
import { kbuildVariables } from '../../src/kernel/kbuild-vars.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R_X86_64_PLT32, SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS, STB_GLOBAL, STB_LOCAL, STT_FUNC } from '../../src/elf/constants.js';
import { addRelaSection, addSection, addSymbol, ensureSectionSymbol, findSymtab, removeSection } from '../../src/elf/edit.js';
import type { ElfFile, ElfSymbol } from '../../src/elf/model.js';
import { parseElf } from '../../src/elf/parse.js';
import { isTextSection } from '../../src/elf/predicates.js';
import { serializeElf } from '../../src/elf/serialize.js';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { elfCli } from '../helpers/elf-cli.js';
import { readelfLayoutFree } from '../helpers/elf-fixtures.js';
import { fuzzElf } from '../helpers/elf-fuzz.js';
import { expectBoundariesLikeObjdump, expectDumpLikeReadelf, expectValidObject } from '../helpers/elf-oracles.js';
import { defaultWorkspace } from '../helpers/workspace.js';
import { compileSource, DIFF_CFLAGS, objectFor, unitRecords, workspaceCompiler } from '../../src/kbuild/compile.js';
import { dryRunArgs } from '../../src/kbuild/unit-command.js';
import { mapLimit } from '../../src/util/concurrency.js';

// The ELF layer on real kernel objects: every unit kbuild builds in fs/proc/
// (as a dry run lists them) compiled with kbuild's recorded command outside
// the prepared tree (objtool included, so the objects carry every special
// section), fs/binfmt_misc.o as a module object, and every .ko file of the
// release.

const run = promisify(execFile);
let ws: KernelWorkspace;
let tmp: string;
let objects: string[] = [];
let modules: string[] = [];

beforeAll(async () => {
  ws = await defaultWorkspace();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rb-elf-kernel-'));
  // the units of fs/proc/ for this release's config: a dry run of the directory (it writes nothing in the tree)
  const dry = await run('make', ['-C', ws.sourceTree, ...kbuildVariables(ws), ...dryRunArgs(['fs/proc/'], DIFF_CFLAGS)], { maxBuffer: 64 * 1024 * 1024 });
  const units = [...new Set([...dry.stdout.matchAll(/scripts\/basic\/fixdep \S+ (fs\/proc\/[\w-]+)\.o /g)].map((m) => `${m[1]}.c`))];
  const cc = workspaceCompiler(ws);
  await unitRecords(cc, [...units, 'fs/binfmt_misc.c'].map(objectFor));
  objects = (await mapLimit([...units.sort(), 'fs/binfmt_misc.c'], 2, (u) => compileSource(cc, u, tmp))).sort();
  modules = execFileSync('find', [ws.modulesDir, '-name', '*.ko'], { encoding: 'utf8' }).trim().split('\n').sort();
}, 10 * 60_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const load = (file: string): ElfFile => parseElf(readFileSync(file), { file });

function relocationFacts(file: ElfFile): string[] {
  return file.sections.flatMap((s) => (s.relas ?? []).map((r) => `${s.name} ${r.offset} ${r.type} ${r.symbol.name || r.symbol.section?.name || ''} ${r.addend}`));
}

describe('ELF layer on a real kernel tree', () => {
  it('compiled fs/proc/ (with special sections) and fs/binfmt_misc.o', () => {
    expect(objects.length).toBeGreaterThan(20);
    const names = load(objects.find((o) => o.endsWith('/fs/proc/cmdline.o')) as string).sections.map((s) => s.name);
    for (const special of ['__mcount_loc', '.orc_unwind', '.orc_unwind_ip', '.return_sites', '.text.cmdline_proc_show']) expect(names).toContain(special);
  });

  it('every compiled object round-trips through `elf rewrite` byte for byte', async () => {
    for (const file of objects) {
      const out = path.join(tmp, `rw-${path.basename(file)}`);
      const r = await elfCli(['elf', 'rewrite', file, out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout), file).toMatchObject({ identical: true });
      expect(Buffer.compare(readFileSync(out), readFileSync(file)), file).toBe(0);
    }
  });

  it(`every .ko of the release round-trips byte for byte`, () => {
    expect(modules.length).toBeGreaterThan(500);
    const differ: string[] = [];
    for (const file of modules) {
      const bytes = readFileSync(file);
      if (Buffer.compare(Buffer.from(serializeElf(parseElf(bytes, { file }))), bytes) !== 0) differ.push(file);
    }
    expect(differ).toEqual([]);
  });

  it('elf dump prints what readelf prints for every compiled object and a sample of modules', async () => {
    for (const file of objects) await expectDumpLikeReadelf(file);
    for (const file of modules.filter((_m, i) => i % 40 === 0)) await expectDumpLikeReadelf(file);
  });

  it('a fresh layout of every object reads the same in readelf (offsets aside) and links with ld -r', () => {
    for (const file of objects) {
      const out = path.join(tmp, `fresh-${path.basename(file)}`);
      writeFileSync(out, serializeElf(load(file), { freshLayout: true }));
      expect(readelfLayoutFree(out), file).toBe(readelfLayoutFree(file).replaceAll(file, out));
      expectValidObject(out);
    }
  });

  it('edited objects (a section added, a function section dropped, symbols reordered) pass readelf -a and ld -r', () => {
    for (const file of objects) {
      const elf = load(file);
      const symtab = findSymtab(elf);
      if (!symtab?.symbols) throw new Error(`${file} has no symbols`);
      // add a function calling an existing global, with its relocation section
      const callee = symtab.symbols.find((s) => s.bind === STB_GLOBAL && s.section === null && s.name !== '') as ElfSymbol | undefined;
      const code = new Uint8Array([0xe8, 0, 0, 0, 0, 0xc3]);
      const text = addSection(elf, { name: '.text.rebootless_added', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 16, data: code });
      ensureSectionSymbol(elf, text);
      addSymbol(elf, { name: 'rebootless_added', type: STT_FUNC, bind: STB_LOCAL, section: text, size: code.length });
      if (callee) addRelaSection(elf, text, [{ offset: 1n, type: R_X86_64_PLT32, symbol: callee, addend: -4n }]);
      // drop the first function that has its own section
      const fn = symtab.symbols.find((s) => s.type === STT_FUNC && s.section && s.section.name === `.text.${s.name}`);
      if (fn?.section) removeSection(elf, fn.section, { keepReferences: true });
      // reverse the symbol order (locals end up after globals in the model)
      const [nul, ...rest] = symtab.symbols;
      symtab.symbols = [nul as ElfSymbol, ...rest.reverse()];
      const facts = relocationFacts(elf);
      const out = path.join(tmp, `edited-${path.basename(file)}`);
      writeFileSync(out, serializeElf(elf));
      expectValidObject(out);
      expect(relocationFacts(load(out)), file).toEqual(facts);
    }
  });

  it('instruction boundaries of every text section agree with objdump -d', () => {
    let n = 0;
    for (const file of objects) n += expectBoundariesLikeObjdump(file);
    for (const file of modules.filter((_m, i) => i % 100 === 0)) n += expectBoundariesLikeObjdump(file);
    expect(n).toBeGreaterThan(10_000);
    expect(objects.some((f) => load(f).sections.some((s) => isTextSection(s) && s.size > 0))).toBe(true);
  });

  it('fuzz: mutations of real kernel objects and modules end in typed errors', async () => {
    const pick = [objects[0], objects.at(-1), modules.find((m) => m.endsWith('/binfmt_misc.ko'))].filter((f): f is string => f !== undefined);
    const seeds = pick.map((f) => ({ name: path.basename(f), bytes: new Uint8Array(readFileSync(f)) }));
    const report = await fuzzElf(seeds, { cases: 4000, seed: 0xc0ffee });
    expect(report.findings, JSON.stringify(report.findings.slice(0, 3), null, 2)).toEqual([]);
    expect(report.written).toBeGreaterThan(400);
  });
});
