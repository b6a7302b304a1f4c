import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SentinelError } from '../errors';

/**
 * The installation's Ed25519 signing key for evidence packages. Made on first use, kept in
 * `<dataDir>/keys/` readable by the service's user only. Its public half travels inside
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

export function loadOrCreateSigningKey(dataDir: string): SigningKey {
  const dir = join(dataDir, 'keys');
  const file = join(dir, KEY_FILE);
  let privateKey: KeyObject;
  if (existsSync(file)) {
    try {
      privateKey = createPrivateKey(readFileSync(file));
    } catch (err) {
      throw new SentinelError(
        `the evidence signing key ${file} cannot be read (${(err as Error).message}); restore it from backup — a new key would not match packages already issued`,
        'internal',
      );
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new SentinelError(`${file} is not an Ed25519 key`, 'internal');
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('ed25519');
    privateKey = pair.privateKey;
    // Written whole, then renamed: a crash never leaves half a key.
    writeFileSync(`${file}.tmp`, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    chmodSync(file, 0o600);
  }
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    fingerprint: fingerprintOf(publicKey),
  };
}
