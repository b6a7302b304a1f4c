import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, totp, verifyTotp } from './totp';

// RFC 4226 appendix D and RFC 6238 appendix B test vectors.
const KEY = Buffer.from('12345678901234567890', 'ascii');

describe('TOTP', () => {
  it('matches the RFC 4226 HOTP vectors', () => {
    const want = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(want.map((_, i) => hotp(KEY, i))).toEqual(want);
  });

  it('matches the RFC 6238 SHA-1 vectors (8 digits)', () => {
    const cases: [number, string][] = [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1111111111, '14050471'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
      [20000000000, '65353130'],
    ];
    for (const [t, code] of cases) expect(totp(KEY, t * 1000, { digits: 8 })).toBe(code);
  });

  it('round-trips base32 and accepts one step of drift, not two', () => {
    const secret = base32Encode(KEY);
    expect(secret).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(base32Decode(secret)).toEqual(KEY);
    const now = 1_700_000_000_000;
    expect(verifyTotp(secret, totp(KEY, now - 30_000), now)).toBe(true);
    expect(verifyTotp(secret, totp(KEY, now - 90_000), now)).toBe(false);
  });
});
