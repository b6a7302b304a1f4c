import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SentinelError } from '../errors';
import { openKey, type KeyProtection } from '../keys/at-rest';
import type { Logger } from '../logger';

/**
 * The installation's Ed25519 signing key for evidence packages. Made on first use, kept in
 * `<dataDir>/keys/` readable by the service's user only, sealed when a key protection is set. Its public half travels inside
 * every package; its fingerprint is what a court or an inspector compares against the one
 * the CTA publishes for this installation (`sentinel evidence key`).
 */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  fingerprint: string;
}

export const KEY_FILE = 'evidence-ed25519.pem';

/** SHA-256 of the raw 32-byte public key, hex, grouped for reading aloud. */
export function fingerprintOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  const hex = createHash('sha256')
    .update(der.subarray(der.length - 32))
    .digest('hex');
  return hex.match(/.{4}/g)!.slice(0, 8).join(':');
}

/** Whether the installation has a signing key yet (plain or sealed), without making one. */
export function signingKeyExists(dataDir: string): boolean {
  const file = join(dataDir, 'keys', KEY_FILE);
  return existsSync(file) || existsSync(`${file}.sealed`);
}

/**
 * The key, sealed under `protection` when one is configured (core/keys/at-rest.ts: Electron
 * safeStorage, a key file or a passphrase), else a plain file readable by the service's user
 * only. An existing plain key is sealed on first use with a protection, never replaced.
 */
export function loadOrCreateSigningKey(dataDir: string, protection: KeyProtection | null, log?: Logger): SigningKey {
  const file = join(dataDir, 'keys', KEY_FILE);
  const pem = openKey(
    dataDir,
    KEY_FILE,
    protection,
    () => Buffer.from(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' })),
    (plain) => log?.info({ file: plain, protection: protection?.describe }, 'evidence signing key sealed; the plain copy is removed'),
  );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new SentinelError(
      `the evidence signing key ${file} cannot be read (${(err as Error).message}); restore it from backup — a new key would not match packages already issued`,
      'internal',
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new SentinelError(`${file} is not an Ed25519 key`, 'internal');
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    fingerprint: fingerprintOf(publicKey),
  };
}
