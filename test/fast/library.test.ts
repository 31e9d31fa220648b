import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';

// The library's surface (src/index.ts): what the CLI does, callable from code.

describe('the library surface', () => {
  it('exports build, verify, diff, try, the VM, apply, revert, status and install as functions', () => {
    const fns = [
      'fetchRelease', 'listFetchableReleases', 'addKernel', 'verifyTree', 'ensureBuildRoot', 'loadWorkspace', 'buildLivepatch', 'verifyModuleFile', 'parseSourcePatch', 'diffObjects',
      'readElfFile', 'writeElfFile', 'proveModule', 'tryLivepatch', 'runInVm', 'runDemo',
      'liveHost', 'readModuleFile', 'predictPatch', 'applyPatch', 'revertPatch', 'revertAll', 'hostStatus',
      'installPatch', 'uninstallPatch', 'listInstalled',
    ] as const;
    for (const f of fns) expect(typeof lib[f], f).toBe('function');
    expect(typeof lib.Vm.start).toBe('function');
    expect(typeof lib.elf.parseElf).toBe('function');
    expect(lib.STATUS_SCHEMA).toBe('rebootless.status/1');
  });

  it('lists the build stages in order, one file (or folder) each under src/pipeline/', async () => {
    expect(lib.STAGES).toEqual(['validate', 'headers', 'commands', 'compile', 'diff', 'run-pre', 'generate', 'link', 'post-link', 'verify', 'sign']);
    for (const s of lib.STAGES) await expect(import(s === 'headers' ? '../../src/pipeline/headers/index.ts' : `../../src/pipeline/${s}.ts`)).resolves.toBeTruthy();
  });

  it('names a patch module as the kernel will (livepatch_ and [A-Za-z0-9_])', () => {
    expect(lib.patchModuleName('CVE-2026.1 fix')).toBe('livepatch_CVE_2026_1_fix');
    expect(lib.patchModuleName('livepatch_cmdline')).toBe('livepatch_cmdline');
  });
});
