import { timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

/**
 * TOTP (RFC 6238) over HOTP (RFC 4226) with the kept `otpauth` library. These thin wrappers
 * keep the names the rest of the core and the tests use (Buffer keys, ms times).
 */

export function base32Encode(buf: Buffer): string {
  return new Secret({ buffer: Uint8Array.from(buf).buffer }).base32;
}

export function base32Decode(s: string): Buffer {
  const clean = s.replace(/=+$/, '').replace(/\s/g, '').toUpperCase();
  const bad = /[^A-Z2-7]/.exec(clean);
  if (bad) throw new Error(`"${bad[0]}" is not a base32 character`);
  return Buffer.from(Secret.fromBase32(clean).bytes);
}

type Algorithm = 'sha1' | 'sha256' | 'sha512';
const ALG: Record<Algorithm, string> = { sha1: 'SHA1', sha256: 'SHA256', sha512: 'SHA512' };
const secretOf = (key: Buffer): Secret => new Secret({ buffer: Uint8Array.from(key).buffer });

export function hotp(key: Buffer, counter: number, digits = 6, algorithm: Algorithm = 'sha1'): string {
  return new HOTP({ secret: secretOf(key), digits, algorithm: ALG[algorithm] }).generate({ counter });
}

export function totp(key: Buffer, timeMs: number, opts: { stepS?: number; digits?: number; algorithm?: Algorithm } = {}): string {
  return new TOTP({
    secret: secretOf(key),
    period: opts.stepS ?? 30,
    digits: opts.digits ?? 6,
    algorithm: ALG[opts.algorithm ?? 'sha1'],
  }).generate({ timestamp: timeMs });
}

/** Accepts the current step and one on either side (clock drift of a phone). */
export function verifyTotp(secretB32: string, code: string, timeMs = Date.now()): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  const key = base32Decode(secretB32);
  // otpauth's validate() would do the window too; comparing ourselves keeps it constant-time.
  let ok = false;
  for (const drift of [-1, 0, 1]) {
    const want = Buffer.from(totp(key, timeMs + drift * 30_000));
    if (timingSafeEqual(want, Buffer.from(code))) ok = true;
  }
  return ok;
}

/** A fresh 160-bit secret (RFC 4226 recommends at least 128 bits), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://` URI an authenticator app reads from the enrolment QR code. */
export function otpauthUri(secretB32: string, username: string, issuer = 'Sentinel'): string {
  return new TOTP({ issuer, label: username, secret: Secret.fromBase32(secretB32), algorithm: 'SHA1', digits: 6, period: 30 }).toString();
}
