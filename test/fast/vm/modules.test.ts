import { describe, expect, it } from 'vitest';
import { parseModulesDep, resolveModules } from '../../../src/kernel/module-files.js';
import { renderModulesDep } from '../../../src/vm/modules.js';

const dep = parseModulesDep(
  [
    'kernel/fs/binfmt_misc.ko:',
    'kernel/drivers/virtio/virtio.ko:',
    'kernel/drivers/virtio/virtio_ring.ko:',
    'kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  ].join('\n'),
);

describe('guest modules', () => {
  it('writes a modules.dep of just the shipped modules', () => {
    const paths = resolveModules(dep, ['virtio_console'], 'r');
    expect(renderModulesDep(dep, paths)).toBe(
      'kernel/drivers/virtio/virtio.ko:\nkernel/drivers/virtio/virtio_ring.ko:\nkernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n',
    );
  });
});
