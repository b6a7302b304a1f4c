import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SentinelError } from '../errors';
import { openKey, type KeyProtection } from '../keys/at-rest';
import type { Logger } from '../logger';

export interface Credentials {
  username?: string | undefined;
  password?: string | undefined;
}

const VERSION = 1;

/**
 * Encrypts camera credentials at rest with AES-256-GCM. The key is a file in the data
 * directory (`keys/camera-credentials.key`, mode 0600, or `.sealed` under a key protection:
 * core/keys/at-rest.ts), not in the database: a copy of the
 * database alone reveals no password. The camera id is the additional authenticated data,
 * so a ciphertext moved to another camera's row fails to decrypt instead of working there.
 */
export class CredentialVault {
  private readonly key: Buffer;

  constructor(dataDir: string, protection: KeyProtection | null, log?: Logger) {
    const key = openKey(
      dataDir,
      'camera-credentials.key',
      protection,
      () => randomBytes(32),
      (plain) => log?.info({ file: plain, protection: protection?.describe }, 'camera credential key sealed; the plain copy is removed'),
    );
    if (key.length !== 32)
      throw new SentinelError(
        `camera credential key ${join(dataDir, 'keys', 'camera-credentials.key')} is damaged (expected 32 bytes, found ${key.length}); restore it from a backup`,
        'internal',
      );
    this.key = key;
  }

  encrypt(cameraId: string, creds: Credentials): Buffer | null {
    if (!creds.username && !creds.password) return null;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(cameraId, 'utf8'));
    const body = Buffer.concat([c.update(JSON.stringify({ u: creds.username ?? '', p: creds.password ?? '' }), 'utf8'), c.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), body]);
  }

  decrypt(cameraId: string, blob: Buffer | null): Credentials {
    if (!blob) return {};
    if (blob[0] !== VERSION || blob.length < 29)
      throw new SentinelError(`credentials of camera ${cameraId} are in an unknown format`, 'internal');
    const d = createDecipheriv('aes-256-gcm', this.key, blob.subarray(1, 13));
    d.setAAD(Buffer.from(cameraId, 'utf8'));
    d.setAuthTag(blob.subarray(13, 29));
    let text: string;
    try {
      text = Buffer.concat([d.update(blob.subarray(29)), d.final()]).toString('utf8');
    } catch {
      throw new SentinelError(
        `credentials of camera ${cameraId} cannot be decrypted (the key file was replaced?); enter them again`,
        'internal',
      );
    }
    const o = JSON.parse(text) as { u: string; p: string };
    return { ...(o.u ? { username: o.u } : {}), ...(o.p ? { password: o.p } : {}) };
  }
}
