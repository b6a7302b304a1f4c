import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SentinelError } from '../errors';

/**
 * Keys at rest (the evidence-signing key, the camera-credential key): sealed with AES-256-GCM
 * under a key-protection key that does not live in the data directory. Where that key comes
 * from, strongest first:
 * - `electron`: the desktop shell keeps a random key in the OS keychain (Electron safeStorage)
 *   and hands it to the core over its parent port (SENTINEL_KEY_SOURCE=parent);
 * - `file`: SENTINEL_KEY_FILE, a file only the service's user may read (refused otherwise);
 * - `passphrase`: SENTINEL_KEY_PASSPHRASE, stretched with scrypt and a per-file salt.
 * Without any, keys stay plain files readable by the service's user only (a laptop demo).
 */
export interface KeyProtection {
  kind: 'electron' | 'file' | 'passphrase';
  /** Names the source in messages, never the secret. */
  describe: string;
  /** The 32-byte key-encryption key for one sealed file (a passphrase needs the file's salt). */
  kek(salt: Buffer): Buffer;
}

const HOW_TO_UNLOCK =
  'set SENTINEL_KEY_PASSPHRASE or SENTINEL_KEY_FILE as when it was sealed (under the desktop app, start Sentinel from the app)';

/** Refuses a key file others can read, saying how to fix it. */
export function refuseLooseFile(file: string, what: string): void {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new SentinelError(
      `${what} ${file} can be read by other users (mode ${mode.toString(8).padStart(3, '0')}); run: chmod 600 ${file}`,
      'internal',
    );
}

export function passphraseProtection(passphrase: string): KeyProtection {
  if (passphrase.length < 12) throw new SentinelError('SENTINEL_KEY_PASSPHRASE must be at least 12 characters', 'validation_failed');
  return {
    kind: 'passphrase',
    describe: 'the passphrase in SENTINEL_KEY_PASSPHRASE',
    // N=2^15: the same cost as a password hash (~100 ms, 32 MiB), once per key file at start.
    kek: (salt) => scryptSync(passphrase.normalize('NFKC'), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }),
  };
}

export function keyFileProtection(file: string): KeyProtection {
  if (!existsSync(file)) throw new SentinelError(`SENTINEL_KEY_FILE ${file} does not exist`, 'validation_failed');
  refuseLooseFile(file, 'the key file (SENTINEL_KEY_FILE)');
  const bytes = readFileSync(file);
  if (bytes.length < 32)
    throw new SentinelError(
      `SENTINEL_KEY_FILE ${file} holds ${bytes.length} bytes; it needs at least 32 random bytes (head -c 32 /dev/urandom > FILE)`,
    );
  const key = createHash('sha256').update(bytes).digest();
  return { kind: 'file', describe: `the key file ${file}`, kek: () => key };
}

export function electronProtection(base64Key: string): KeyProtection {
  const key = Buffer.from(base64Key, 'base64');
  if (key.length !== 32) throw new SentinelError(`the desktop app sent a key of ${key.length} bytes, not 32`, 'internal');
  return { kind: 'electron', describe: "the desktop app's key (safeStorage)", kek: () => key };
}

/** The protection the environment asks for (SENTINEL_KEY_FILE, SENTINEL_KEY_PASSPHRASE), or null. */
export function protectionFromEnv(env: NodeJS.ProcessEnv): KeyProtection | null {
  if (env.SENTINEL_KEY_FILE && env.SENTINEL_KEY_PASSPHRASE)
    throw new SentinelError('set SENTINEL_KEY_FILE or SENTINEL_KEY_PASSPHRASE, not both', 'validation_failed');
  if (env.SENTINEL_KEY_FILE) return keyFileProtection(env.SENTINEL_KEY_FILE);
  if (env.SENTINEL_KEY_PASSPHRASE) return passphraseProtection(env.SENTINEL_KEY_PASSPHRASE);
  return null;
}

interface Sealed {
  v: 1;
  kind: KeyProtection['kind'];
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

function seal(name: string, plain: Buffer, p: KeyProtection): Sealed {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', p.kek(salt), iv);
  // The key's name is authenticated: a sealed camera key copied over the evidence key fails.
  c.setAAD(Buffer.from(name));
  const data = Buffer.concat([c.update(plain), c.final()]);
  return {
    v: 1,
    kind: p.kind,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: c.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

function unseal(name: string, file: string, s: Sealed, p: KeyProtection): Buffer {
  const d = createDecipheriv('aes-256-gcm', p.kek(Buffer.from(s.salt, 'base64')), Buffer.from(s.iv, 'base64'));
  d.setAAD(Buffer.from(name));
  d.setAuthTag(Buffer.from(s.tag, 'base64'));
  try {
    return Buffer.concat([d.update(Buffer.from(s.data, 'base64')), d.final()]);
  } catch {
    throw new SentinelError(
      `cannot unlock ${file} with ${p.describe}: it was sealed with another ${s.kind === p.kind ? s.kind : `key (${s.kind})`}; use the one it was sealed with`,
      'internal',
    );
  }
}

function writeAtomic(file: string, data: string | Buffer): void {
  writeFileSync(`${file}.tmp`, data, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/**
 * One key of the installation, as bytes: `<dataDir>/keys/<name>` (plain, mode 0600) or
 * `<name>.sealed` (JSON, under the protection). Made by `create` on first use. A plain file
 * found while a protection is configured is sealed and the plain copy removed (after the
 * sealed one is proven to open), so an upgrade loses no key; a sealed file with no protection
 * configured is refused, saying what to set. `onMigrated` is told when a plain key was sealed.
 */
export function openKey(
  dataDir: string,
  name: string,
  protection: KeyProtection | null,
  create: () => Buffer,
  onMigrated?: (file: string) => void,
): Buffer {
  const dir = join(dataDir, 'keys');
  const plainFile = join(dir, name);
  const sealedFile = `${plainFile}.sealed`;
  if (existsSync(sealedFile)) {
    if (!protection) throw new SentinelError(`${sealedFile} is sealed and no key protection is configured: ${HOW_TO_UNLOCK}`, 'internal');
    refuseLooseFile(sealedFile, 'the sealed key');
    let s: Sealed;
    try {
      s = JSON.parse(readFileSync(sealedFile, 'utf8')) as Sealed;
    } catch (err) {
      throw new SentinelError(`${sealedFile} is damaged (${(err as Error).message}); restore it from a backup`, 'internal');
    }
    return unseal(name, sealedFile, s, protection);
  }
  if (existsSync(plainFile)) {
    refuseLooseFile(plainFile, 'the key');
    const plain = readFileSync(plainFile);
    if (protection) {
      const sealed = seal(name, plain, protection);
      // Proven to open before the plain copy goes.
      if (!unseal(name, sealedFile, sealed, protection).equals(plain)) throw new SentinelError(`sealing ${plainFile} failed`, 'internal');
      writeAtomic(sealedFile, JSON.stringify(sealed));
      rmSync(plainFile);
      onMigrated?.(plainFile);
    }
    return plain;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fresh = create();
  if (protection) writeAtomic(sealedFile, JSON.stringify(seal(name, fresh, protection)));
  else writeAtomic(plainFile, fresh);
  return fresh;
}
