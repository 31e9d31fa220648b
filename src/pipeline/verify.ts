import { RebootlessError } from '../errors/index.js';
import { findSymtab, modinfoOf, modinfoValue, parseElf, parseLivepatchSymbolName, readKlpTables, type ElfFile } from '../elf/index.js';
import { openElfSymbols, readElfFile, type OpenElf } from '../elf/files.js';
import type { KernelWorkspace } from '../kernel/manifest.js';
import { findModuleFile } from '../kernel/module-files.js';
import { readSymvers, type Export } from '../kernel/symvers.js';
import { targetObject, verifyLivepatch, type TargetObject, type TargetSymbol, type Violation } from '../klp/verify/index.js';

// Stage 10, verify: the finished module read back and checked against the
// release's vmlinux, module files and Module.symvers, with its own reading
// of the module (klp tables, relocations) and of the kernel's code, sharing
// nothing with the stages that produced it. Only a module that passes is
// written by the build. Also `rebootless verify` and `try`'s first step.

export interface VerifyReport {
  module: string;
  release: string;
  ok: boolean;
  violations: Violation[];
  /** Replaced functions whose references were compared with their originals. */
  compared: string[];
  /** Target objects checked: vmlinux and the patched modules. */
  objects: string[];
  ms: number;
}

/** Objects the module names: its klp_objects and the objects of its `.klp.sym` symbols. */
function objectsNamed(file: ElfFile, tables: ReturnType<typeof readKlpTables>): string[] {
  const names = new Set(['vmlinux', ...tables.objects.map((o) => o.name)]);
  for (const s of findSymtab(file)?.symbols ?? []) {
    const n = parseLivepatchSymbolName(s.name);
    if (n) names.add(n.object);
  }
  return [...names];
}

/** What a build has read already and lends to verify: vmlinux opened (its symbol table parsed; verify does not close it) and Module.symvers. */
export interface VerifyInputs {
  vmlinux?: OpenElf;
  exports?: Map<string, Export>;
}

export async function verifyModule(file: ElfFile, ws: KernelWorkspace, inputs: VerifyInputs = {}): Promise<VerifyReport> {
  const t0 = Date.now();
  const tables = readKlpTables(file);
  const exports = inputs.exports ?? (await readSymvers(ws.moduleSymvers));
  const vmlinux = inputs.vmlinux ?? (await openElfSymbols(ws.vmlinux));
  try {
    const targets = new Map<string, TargetObject>([['vmlinux', targetObject('vmlinux', vmlinux.file, 'address')]]);
    for (const name of objectsNamed(file, tables)) {
      if (name === 'vmlinux') continue;
      const ko = await findModuleFile(ws.modulesDir, name);
      if (ko) targets.set(name, targetObject(name, await readElfFile(ko), 'table'));
    }
    const code = new Map<TargetSymbol, Uint8Array>();
    for (;;) {
      const r = verifyLivepatch({ module: file, tables, targets, exports, code });
      if (r.needCode.length === 0) {
        const name = modinfoValue(modinfoOf(file) ?? [], 'name') ?? file.file;
        return { module: name, release: ws.release, ok: r.violations.length === 0, violations: r.violations, compared: r.compared, objects: [...targets.keys()], ms: Date.now() - t0 };
      }
      for (const s of r.needCode) code.set(s, await functionBytes(vmlinux, s));
    }
  } finally {
    if (!inputs.vmlinux) await vmlinux.close();
  }
}

/** A vmlinux function's bytes, read from its section at its address. */
async function functionBytes(vmlinux: OpenElf, s: TargetSymbol): Promise<Uint8Array> {
  const sec = s.elf?.section;
  if (!sec || s.size === 0) return new Uint8Array(0);
  return vmlinux.readSectionBytes(sec, Number(s.value - sec.addr), s.size);
}

export async function verifyModuleFile(path: string, ws: KernelWorkspace): Promise<VerifyReport> {
  return verifyModule(await readElfFile(path), ws);
}

/** Checks module bytes about to be written; throws VERIFY_FAILED. */
export async function verifyModuleBytes(bytes: Uint8Array, label: string, ws: KernelWorkspace, inputs: VerifyInputs = {}): Promise<VerifyReport> {
  const report = await verifyModule(parseElf(bytes, { file: label }), ws, inputs);
  assertVerified(report);
  return report;
}

export function assertVerified(r: VerifyReport): void {
  if (!r.ok) throw new RebootlessError('VERIFY_FAILED', { module: r.module, against: r.release, violations: r.violations });
}

