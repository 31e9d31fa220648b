import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { otherArchitecture, sourceExcludes } from '../../../src/kernel/source-subset.js';
import { validate } from '../../../src/pipeline/validate.js';
import { rejection } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const tmp = tempDir('rb-subset-');

const KEPT = [
  'Kconfig',
  'Makefile',
  'Documentation/Kconfig',
  'Documentation/Makefile',
  'arch/Kconfig',
  'arch/x86/kernel/setup.c',
  'arch/x86/include/asm/io.h',
  'arch/x86/entry/entry_64.S',
  'arch/x86/configs/x86_64_defconfig',
  'arch/arm/crypto/Kconfig',
  'arch/arm64/Makefile',
  'arch/um/Kconfig.debug',
  'tools/arch/arm64/include/asm/barrier.h',
  'crypto/aes_generic.c',
  'drivers/net/dummy.c',
];
const LEFT_OUT = [
  'Documentation/admin-guide/README.rst',
  'Documentation/devicetree/bindings/x.yaml',
  'Documentation/x86/boot.txt',
  'arch/arm/kernel/setup.c',
  'arch/arm64/include/asm/io.h',
  'arch/arm64/boot/dts/a/b.dts',
  'arch/arm64/boot/dts/a/c.dtsi',
  'arch/powerpc/kernel/head_64.S',
  'arch/arm/configs/multi_v7_defconfig',
  'arch/um/kernel/mem.c',
];

describe('the source tree kernel fetch unpacks', () => {
  it("tar's patterns leave out other architectures' code and the documentation's text, and keep every Kconfig and Makefile", () => {
    const top = 'linux-source-6.1';
    const src = path.join(tmp, 'src');
    for (const f of [...KEPT, ...LEFT_OUT]) {
      mkdirSync(path.dirname(path.join(src, top, f)), { recursive: true });
      writeFileSync(path.join(src, top, f), `${f}\n`);
    }
    const archive = path.join(tmp, 'src.tar');
    execFileSync('tar', ['-c', '-f', archive, '-C', src, top]);
    const out = path.join(tmp, 'out');
    mkdirSync(out);
    execFileSync('tar', ['-x', '-f', archive, '-C', out, '--anchored', ...sourceExcludes(top).map((p) => `--exclude=${p}`)]);
    expect(KEPT.filter((f) => !existsSync(path.join(out, top, f)))).toEqual([]);
    expect(LEFT_OUT.filter((f) => existsSync(path.join(out, top, f)))).toEqual([]);
  });

  it('names the architecture of a path it leaves out, and nothing for what it keeps', () => {
    expect(otherArchitecture('arch/arm64/kernel/setup.c')).toBe('arm64');
    expect(otherArchitecture('arch/powerpc/include/asm/io.h')).toBe('powerpc');
    expect(otherArchitecture('arch/arm/crypto/Kconfig')).toBeUndefined();
    expect(otherArchitecture('arch/x86/kernel/setup.c')).toBeUndefined();
    expect(otherArchitecture('tools/arch/arm64/include/asm/barrier.h')).toBeUndefined();
    expect(otherArchitecture('drivers/arm/x.c')).toBeUndefined();
  });

  it("a diff of another architecture's code is refused by name when the tree left it out, and read when the tree has it (kernel add)", async () => {
    const tree = path.join(tmp, 'tree');
    mkdirSync(path.join(tree, 'arch/x86/kernel'), { recursive: true });
    writeFileSync(path.join(tree, 'arch/x86/kernel/a.c'), 'int a;\n');
    const diff = (f: string): string => `--- a/${f}\n+++ b/${f}\n@@ -1 +1 @@\n-int a;\n+int b;\n`;
    const patch = path.join(tmp, 'arm64.patch');
    writeFileSync(patch, diff('arch/x86/kernel/a.c') + diff('arch/arm64/kernel/a.c'));
    const err = await rejection(validate([patch], tree));
    expect(err.code).toBe('PATCH_OTHER_ARCH');
    expect(err.message).toContain('arch/arm64/kernel/a.c: arm64 code');
    mkdirSync(path.join(tree, 'arch/arm64/kernel'), { recursive: true });
    writeFileSync(path.join(tree, 'arch/arm64/kernel/a.c'), 'int a;\n');
    const files = await validate([patch], tree);
    expect(files.map((f) => [f.path, f.patched])).toEqual([
      ['arch/x86/kernel/a.c', 'int b;\n'],
      ['arch/arm64/kernel/a.c', 'int b;\n'],
    ]);
  });
});
