import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SentinelError } from '../errors';

export interface Credentials {
  username?: string | undefined;
  password?: string | undefined;
}

const VERSION = 1;

/**
 * Encrypts camera credentials at rest with AES-256-GCM. The key is a file in the data
 * directory (`keys/camera-credentials.key`, mode 0600), not in the database: a copy of the
 * database alone reveals no password. The camera id is the additional authenticated data,
 * so a ciphertext moved to another camera's row fails to decrypt instead of working there.
 */
export class CredentialVault {
  private readonly key: Buffer;

  constructor(dataDir: string) {
    const dir = join(dataDir, 'keys');
    const file = join(dir, 'camera-credentials.key');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existsSync(file)) {
      writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
    }
    // Tighten a key file someone loosened (a copy with the default umask, say).
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    const key = readFileSync(file);
    if (key.length !== 32)
      throw new SentinelError(
        `camera credential key ${file} is damaged (expected 32 bytes, found ${key.length}); restore it from a backup`,
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
