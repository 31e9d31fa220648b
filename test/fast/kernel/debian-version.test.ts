import { describe, expect, it } from 'vitest';
import { compareDebianVersions } from '../../../src/kernel/debian-version.js';

describe('compareDebianVersions', () => {
  it.each([
    ['6.1.192-3', '6.1.192-2', 1],
    ['6.1.192-1', '6.1.190-1', 1],
    ['6.1.99-1', '6.1.100-1', -1],
    ['6.12.117-1~deb12u1', '6.1.192-3', 1],
    ['6.12.117-1~deb12u1', '6.12.117-1', -1],
    ['1.0~rc1', '1.0', -1],
    ['1:1.0', '2.0', 1],
    ['1.0a', '1.0', 1],
    ['1.0+b1', '1.0', 1],
    ['1.0', '1.0', 0],
  ])('%s vs %s → %i', (a, b, sign) => {
    expect(Math.sign(compareDebianVersions(a, b))).toBe(sign);
    expect(Math.sign(compareDebianVersions(b, a)) || 0).toBe(-sign || 0);
  });
});
