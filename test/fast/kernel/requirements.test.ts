import { describe, expect, it } from 'vitest';
import { compilerSource, parseAptCandidate } from '../../../src/kernel/requirements.js';

const BOOKWORM = 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0';
const TRIXIE = 'x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0';

describe("where a fetched kernel's compiler comes from (doctor)", () => {
  it('is the host when the host has it, or can install it at the exact version', () => {
    expect(compilerSource(BOOKWORM, BOOKWORM, null)).toBe('host');
    expect(compilerSource(BOOKWORM, null, '12.2.0-14+deb12u1')).toBe('host');
  });

  it('is a build root (so mmdebstrap is required) when the host cannot have it', () => {
    expect(compilerSource(TRIXIE, null, null)).toBe('build root');
    expect(compilerSource(BOOKWORM, 'gcc-12 (Debian 12.2.0-14) 12.2.0', '12.2.0-14')).toBe('build root');
  });

  it('stays the host for a compiler Debian did not build: no root can have it', () => {
    expect(compilerSource('gcc (GCC) 13.2.1 20230801', null, null)).toBe('host');
  });

  it("reads apt-cache policy's candidate", () => {
    expect(parseAptCandidate('gcc-12:\n  Installed: 12.2.0-14+deb12u1\n  Candidate: 12.2.0-14+deb12u1\n  Version table:\n')).toBe('12.2.0-14+deb12u1');
    expect(parseAptCandidate('gcc-14:\n  Installed: (none)\n  Candidate: (none)\n')).toBeNull();
    expect(parseAptCandidate('')).toBeNull();
  });
});
