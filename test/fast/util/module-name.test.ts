import { describe, expect, it } from 'vitest';
import { moduleName, moduleNameOfFile } from '../../../src/util/module-name.js';

describe('module names', () => {
  it("treat '-' and '_' alike, in the kernel's '_' form", () => {
    expect(moduleName('hid-steam')).toBe('hid_steam');
    expect(moduleName('livepatch_a-b-c')).toBe('livepatch_a_b_c');
    expect(moduleName('ext4')).toBe('ext4');
  });

  it('of a module file drop the directory and the .ko and compression suffixes', () => {
    expect(moduleNameOfFile('kernel/drivers/hid/hid-steam.ko')).toBe('hid_steam');
    expect(moduleNameOfFile('kernel/net/ipv4/tcp-bbr.ko.xz')).toBe('tcp_bbr');
    expect(moduleNameOfFile('/lib/modules/r/kernel/fs/binfmt_misc.ko.zst')).toBe('binfmt_misc');
    expect(moduleNameOfFile('a-b.ko.gz')).toBe('a_b');
  });
});
