import { readElfFile } from '../elf/files.js';
import type { ElfFile, ElfSymbol } from '../elf/model.js';
import { RebootlessError } from '../errors/index.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { findModuleFile } from '../kernel/module-files.js';
import { objectFileBlock } from '../klp/kernel-refs.js';
import { linkedImage, runPre, type LinkedImage } from '../klp/run-pre/index.js';
import type { ChangedObject, CheckedObject, KernelFacts } from './types.js';
import type { OpenElf } from '../elf/files.js';

// Stage 5, run-pre: each changed object's original, as compiled from the
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

export async function runPreStage(changed: readonly ChangedObject[], ws: KernelWorkspace, o: RunPreOptions): Promise<CheckedObject[]> {
  let image: LinkedImage | undefined;
  const vmlinux = (): LinkedImage =>
    (image ??= linkedImage(o.facts.vmlinuxSymbols, o.facts.vmlinux.file.sections, (s, offset, length) => o.facts.vmlinux.readSectionBytes(s, offset, length)));
  const out: CheckedObject[] = [];
  for (const c of changed) {
    const targetFile = c.owner.kind === 'module' ? await moduleFile(ws, c.owner.name) : null;
    if (o.skip) {
      out.push({ ...c, targetFile, runPre: null });
      continue;
    }
    let preferred: ((s: ElfSymbol) => boolean) | undefined;
    if (!targetFile) {
      const block = objectFileBlock(c.orig, c.source, o.facts.vmlinuxSymbols);
      if (block) preferred = (s) => block.symbols.includes(s);
    }
    const target = targetFile && c.owner.kind === 'module' ? { kind: 'module' as const, name: c.owner.name, file: targetFile } : { kind: 'vmlinux' as const, image: vmlinux(), ...(preferred ? { preferred } : {}) };
    out.push({ ...c, targetFile, runPre: await runPre({ object: c.object, orig: c.orig, patched: c.patched, diff: c.diff, target }) });
  }
  return out;
}
