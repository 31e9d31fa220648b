import { describe, expect, it } from 'vitest';
import { configDifferences, parseConfig, parseConfigValue } from '../../../src/kernel/config.js';

const release = `# Linux/x86 6.12.95 Kernel Configuration
CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"
CONFIG_DEBUG_INFO_BTF=y
CONFIG_PAHOLE_VERSION=124
# CONFIG_SCHED_CLASS_EXT is not set
CONFIG_HZ=250
`;

describe('kernel .config', () => {
  it('reads a value, quotes removed', () => {
    expect(parseConfigValue(release, 'CONFIG_CC_VERSION_TEXT')).toBe('gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
    expect(parseConfig(release).get('CONFIG_SCHED_CLASS_EXT')).toBe('n');
  });

  it('finds what Kconfig changed when the host lacks a tool (pahole): options dropped or changed, named in order', () => {
    const prepared = release.replace('CONFIG_DEBUG_INFO_BTF=y\n', '').replace('CONFIG_PAHOLE_VERSION=124', 'CONFIG_PAHOLE_VERSION=0').replace('# CONFIG_SCHED_CLASS_EXT is not set\n', '');
    expect(configDifferences(release, prepared)).toEqual(['CONFIG_DEBUG_INFO_BTF: y → (absent)', 'CONFIG_PAHOLE_VERSION: 124 → 0']);
    expect(configDifferences(release, release + '# comment\n')).toEqual([]);
  });
});
