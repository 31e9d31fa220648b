import { readElfFile } from '../elf/files.js';
import type { ElfFile, ElfSymbol } from '../elf/model.js';
import { RebootlessError } from '../errors/index.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { findModuleFile } from '../kernel/module-files.js';
import { objectFileBlock } from '../klp/kernel-refs.js';
import { linkedImage, runPre, type LinkedImage } from '../klp/run-pre/index.js';
import type { BuiltObject, ChangedObject, CheckedObject, KernelFacts } from './types.js';
import { SHT_NOBITS, STT_FUNC } from '../elf/constants.js';
import { findSymtab } from '../elf/edit.js';
import { buildIndex } from '../elf/lookup.js';
import type { ElfSection } from '../elf/model.js';
import { hexOf, LINKED_SITE_TABLES, linkedTableSites, relocatedFields, rewrittenSites, type LiveExpectation, type LiveExpectations } from '../klp/run-pre/expect.js';
import type { OpenElf } from '../elf/files.js';

// Stage 6, run-pre: each changed object's original, as compiled from the
// release's source, compared function by function with the release's
// binaries (vmlinux from the -dbg package, or the module file) before
// anything is built on it (klp/run-pre/). A difference refuses the build
// (RUN_PRE_MISMATCH, exit 2); what the matched code reaches binds the local
// names the patch uses. --skip-run-pre compares nothing and says so.

export interface RunPreOptions {
  skip: boolean;
  facts: KernelFacts & { vmlinux: OpenElf };
}

async function moduleFile(ws: KernelWorkspace, name: string): Promise<ElfFile> {
  const file = await findModuleFile(ws.modulesDir, name);
  if (!file) throw new RebootlessError('BUILD_TARGET_MODULE_MISSING', { module: name, release: ws.release, modulesDir: ws.modulesDir });
  return readElfFile(file);
}

const images = new WeakMap<OpenElf, LinkedImage>();

/** vmlinux as run-pre reads it, indexed once per build. */
function imageOf(facts: RunPreOptions['facts']): LinkedImage {
  let image = images.get(facts.vmlinux);
  if (!image) {
    image = linkedImage(facts.vmlinuxSymbols, facts.vmlinux.file.sections, (s, offset, length) => facts.vmlinux.readSectionBytes(s, offset, length));
    images.set(facts.vmlinux, image);
  }
  return image;
}

export async function runPreStage(changed: readonly ChangedObject[], ws: KernelWorkspace, o: RunPreOptions): Promise<CheckedObject[]> {
  const vmlinux = (): LinkedImage => imageOf(o.facts);
  const out: CheckedObject[] = [];
  for (const c of changed) {
    const targetFile = c.owner.kind === 'module' ? await moduleFile(ws, c.owner.name) : null;
    if (o.skip) {
      out.push({ ...c, targetFile, runPre: null });
      continue;
    }
    // the object's FILE block tells repeated names apart only when code cannot: found when first asked
    let block: Set<ElfSymbol> | undefined;
    const preferred = (s: ElfSymbol): boolean => (block ??= new Set(objectFileBlock(c.orig, c.source, o.facts.vmlinuxSymbols)?.symbols ?? [])).has(s);
    const target = targetFile && c.owner.kind === 'module' ? { kind: 'module' as const, name: c.owner.name, file: targetFile } : { kind: 'vmlinux' as const, image: vmlinux(), preferred };
    out.push({ ...c, targetFile, runPre: await runPre({ object: c.object, orig: c.orig, patched: c.patched, diff: c.diff, target }) });
  }
  return out;
}

/** The places, once each, in order. */
function mergeSites(sites: [number, number, string][]): [number, number, string][] {
  const seen = new Set<string>();
  return sites.filter((x) => !seen.has(`${x[0]}:${x[1]}`) && seen.add(`${x[0]}:${x[1]}`)).sort((a, b) => a[0] - b[0]);
}

const tables = new WeakMap<OpenElf, Promise<{ name: string; addr: bigint; bytes: Uint8Array }[]>>();

/** vmlinux's linked site tables (klp/run-pre/expect.ts), read once per build. */
function linkedTables(facts: RunPreOptions['facts']): Promise<{ name: string; addr: bigint; bytes: Uint8Array }[]> {
  let t = tables.get(facts.vmlinux);
  if (!t) {
    const wanted = facts.vmlinux.file.sections.filter((s) => s.name in LINKED_SITE_TABLES && s.size > 0 && s.type !== SHT_NOBITS);
    t = Promise.all(wanted.map(async (s) => ({ name: s.name, addr: s.addr, bytes: await facts.vmlinux.readSectionBytes(s, 0, s.size) })));
    tables.set(facts.vmlinux, t);
  }
  return t;
}

/** vmlinux's (address order) or a module's (table order) function of that name at livepatch's sympos. */
function functionAt(symbols: readonly ElfSymbol[], name: string, sympos: number): ElfSymbol | undefined {
  const same = symbols.filter((s) => s.name === name && s.type === STT_FUNC && s.section !== null);
  return sympos === 0 ? (same.length === 1 ? same[0] : undefined) : same[sympos - 1];
}

/**
 * What apply compares the live text with, for every function the klp_func
 * rows replace: the release's bytes and what the kernel changes in them
 * (klp/run-pre/expect.ts). Built from the very rows the module carries.
 */
export async function liveExpectations(checked: readonly CheckedObject[], built: readonly BuiltObject[], facts: RunPreOptions['facts']): Promise<LiveExpectations> {
  const functions: LiveExpectation[] = [];
  const image = imageOf(facts);
  for (const [n, c] of checked.entries()) {
    const rows = built[n]?.patched ?? [];
    const origIdx = buildIndex(c.orig);
    const targetIdx = c.targetFile ? buildIndex(c.targetFile) : undefined;
    for (const row of rows) {
      const orig = origIdx.findSymbolsByName(row.name).find((s) => s.type === STT_FUNC && s.section !== null);
      if (!orig) continue;
      const code = (orig.section as ElfSection).data.subarray(Number(orig.value), Number(orig.value) + orig.size);
      const rewritten = rewrittenSites(c.orig, origIdx, orig, code);
      if (c.targetFile && targetIdx && c.owner.kind === 'module') {
        const fn = functionAt(findSymtab(c.targetFile)?.symbols ?? [], row.name, row.sympos);
        if (!fn?.section) continue;
        const bytes = fn.section.data.subarray(Number(fn.value), Number(fn.value) + fn.size);
        // the module file's own side tables too: objtool may have run on the linked module only
        const own = rewrittenSites(c.targetFile, targetIdx, fn, bytes);
        functions.push({ object: c.owner.name, name: row.name, sympos: row.sympos, bytes: hexOf(bytes), relocated: relocatedFields(targetIdx, fn), rewritten: mergeSites([...rewritten, ...own]) });
      } else {
        const fn = functionAt(image.symbolsNamed(row.name), row.name, row.sympos);
        if (!fn) continue;
        const bytes = await image.read(fn.value, fn.size);
        const linked = (await linkedTables(facts)).flatMap((t) => linkedTableSites(t.name, t.addr, t.bytes, fn.value, bytes));
        functions.push({ object: 'vmlinux', name: row.name, sympos: row.sympos, address: `0x${fn.value.toString(16)}`, bytes: hexOf(bytes), relocated: relocatedFields(origIdx, orig), rewritten: mergeSites([...rewritten, ...linked]) });
      }
    }
  }
  return { version: 1, functions };
}
