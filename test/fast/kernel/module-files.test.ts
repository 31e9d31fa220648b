import { tempDir } from '../../helpers/tmp.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RebootlessError } from '../../../src/errors/index.js';
import { closeNames, findModuleFile, parseModulesDep, readModulesDep, resolveModules } from '../../../src/kernel/module-files.js';

const MODULES_DEP = [
  'kernel/fs/binfmt_misc.ko:',
  'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  'kernel/drivers/virtio/virtio_pci_legacy_dev.ko:',
  'kernel/drivers/virtio/virtio.ko:',
  'kernel/drivers/virtio/virtio_ring.ko:',
  'kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  'kernel/net/ipv4/tcp-bbr.ko.xz:',
].join('\n');
const dep = parseModulesDep(MODULES_DEP);

describe('modules.dep', () => {
  it('resolves a module after its dependencies, each once', () => {
    expect(resolveModules(dep, ['virtio_pci', 'virtio-console'], 'r')).toEqual([
      'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
      'kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio_pci.ko',
      'kernel/drivers/char/virtio_console.ko',
    ]);
  });

  it('treats dashes and underscores alike', () => {
    expect(resolveModules(dep, ['tcp_bbr'], 'r')).toEqual(['kernel/net/ipv4/tcp-bbr.ko.xz']);
    expect(dep.get('tcp_bbr')?.path).toBe('kernel/net/ipv4/tcp-bbr.ko.xz');
  });

  it('refuses an unknown module with MODULE_UNKNOWN, naming close ones', () => {
    try {
      resolveModules(dep, ['binfmt_mics'], '6.1.0-1-cloud-amd64');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RebootlessError);
      expect((e as RebootlessError).code).toBe('MODULE_UNKNOWN');
      expect((e as RebootlessError).message).toBe("no module 'binfmt_mics' in 6.1.0-1-cloud-amd64; close names: binfmt_misc");
    }
    expect(closeNames('virtio', dep.keys())).toEqual(expect.arrayContaining(['virtio', 'virtio_pci', 'virtio_console']));
  });

  it("finds a module's file, and says when the release has no modules.dep instead of knowing no modules", async () => {
    const dir = tempDir('rb-moddep-');
    await expect(readModulesDep(dir)).rejects.toMatchObject({ code: 'MODULES_DEP_UNREADABLE', message: expect.stringContaining(`${dir}/modules.dep: it does not exist`) });
    await expect(findModuleFile(dir, 'binfmt_misc')).rejects.toMatchObject({ code: 'MODULES_DEP_UNREADABLE' });
    writeFileSync(path.join(dir, 'modules.dep'), MODULES_DEP);
    expect(await findModuleFile(dir, 'tcp-bbr')).toBe(path.join(dir, 'kernel/net/ipv4/tcp-bbr.ko.xz'));
    expect(await findModuleFile(dir, 'nosuch')).toBeUndefined();
  });
});
