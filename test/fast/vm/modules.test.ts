import { describe, expect, it } from 'vitest';
import { RebootlessError } from '../../../src/errors/index.js';
import { closeNames, parseModulesDep, renderModulesDep, resolveModules } from '../../../src/vm/modules.js';

const dep = parseModulesDep(
  [
    'kernel/fs/binfmt_misc.ko:',
    'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/virtio/virtio_pci_legacy_dev.ko:',
    'kernel/drivers/virtio/virtio.ko:',
    'kernel/drivers/virtio/virtio_ring.ko:',
    'kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/net/ipv4/tcp-bbr.ko:',
  ].join('\n'),
);

describe('modules', () => {
  it('ships a module after its dependencies, each once', () => {
    expect(resolveModules(dep, ['virtio_pci', 'virtio-console'], 'r')).toEqual([
      'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
      'kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio_pci.ko',
      'kernel/drivers/char/virtio_console.ko',
    ]);
  });

  it('treats dashes and underscores alike', () => {
    expect(resolveModules(dep, ['tcp_bbr'], 'r')).toEqual(['kernel/net/ipv4/tcp-bbr.ko']);
  });

  it('refuses an unknown module, naming close ones', () => {
    try {
      resolveModules(dep, ['binfmt_mics'], '6.1.0-1-cloud-amd64');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RebootlessError);
      expect((e as RebootlessError).code).toBe('VM_MODULE_UNKNOWN');
      expect((e as RebootlessError).message).toContain('close names: binfmt_misc');
    }
    expect(closeNames('virtio', dep.keys())).toEqual(expect.arrayContaining(['virtio', 'virtio_pci', 'virtio_console']));
  });

  it('writes a modules.dep of just the shipped modules', () => {
    const paths = resolveModules(dep, ['virtio_console'], 'r');
    expect(renderModulesDep(dep, paths)).toBe(
      'kernel/drivers/virtio/virtio.ko:\nkernel/drivers/virtio/virtio_ring.ko:\nkernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n',
    );
  });
});
