import { describe, expect, it } from 'vitest';
import { renderDoctor } from '../../../src/cli/actions/doctor.js';
import type { CompilerCheck } from '../../../src/kernel/requirements.js';

const check = (c: Partial<CompilerCheck>): CompilerCheck => ({
  release: '6.12.118+deb13-cloud-amd64',
  expected: 'x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0',
  cc: 'x86_64-linux-gnu-gcc-14',
  found: null,
  matches: false,
  source: 'host',
  ...c,
});

describe('doctor output', () => {
  it('says a compiler the host lacks comes from a build root, and calls only a host compiler that differs a mismatch', () => {
    const rootText = renderDoctor({ ok: true, requirements: [], compilers: [check({ source: 'build root' })], missingPackages: [] }, false);
    expect(rootText).toContain('from a build root of its Debian release');
    expect(rootText).not.toContain('mismatch');
    const hostText = renderDoctor({ ok: false, requirements: [], compilers: [check({ found: 'gcc-14 (Debian 14.2.0-20) 14.2.0' })], missingPackages: [] }, false);
    expect(hostText).toContain('mismatch');
  });
});
