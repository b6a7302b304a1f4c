import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CredentialVault } from '../cameras/secrets';
import { loadOrCreateSigningKey } from '../evidence/keys';
import { electronProtection, keyFileProtection, openKey, passphraseProtection, protectionFromEnv } from './at-rest';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'sentinel-keys-'));
const PASS = passphraseProtection('correct horse battery staple');

describe('keys at rest', () => {
  it('without a protection: a plain file readable by the owner only; a loosened one is refused with the fix', () => {
    const dir = fresh();
    const k = openKey(dir, 'x.key', null, () => randomBytes(32));
    const file = join(dir, 'keys', 'x.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(openKey(dir, 'x.key', null, () => randomBytes(32))).toEqual(k);
    chmodSync(file, 0o644);
    expect(() => openKey(dir, 'x.key', null, () => randomBytes(32))).toThrow(
      `the key ${file} can be read by other users (mode 644); run: chmod 600 ${file}`,
    );
  });

  it('with a passphrase: sealed, never plain on disk; the wrong passphrase or none is refused clearly', () => {
    const dir = fresh();
    const k = openKey(dir, 'x.key', PASS, () => randomBytes(32));
    expect(existsSync(join(dir, 'keys', 'x.key'))).toBe(false);
    const sealed = join(dir, 'keys', 'x.key.sealed');
    expect(readFileSync(sealed, 'utf8')).not.toContain(k.toString('base64'));
    expect(openKey(dir, 'x.key', passphraseProtection('correct horse battery staple'), () => randomBytes(32))).toEqual(k);
    expect(() => openKey(dir, 'x.key', passphraseProtection('wrong horse battery staple'), () => randomBytes(32))).toThrow(
      `cannot unlock ${sealed} with the passphrase in SENTINEL_KEY_PASSPHRASE`,
    );
    expect(() => openKey(dir, 'x.key', null, () => randomBytes(32))).toThrow(`${sealed} is sealed and no key protection is configured`);
    // Nothing was replaced by the failed attempts.
    expect(openKey(dir, 'x.key', PASS, () => randomBytes(32))).toEqual(k);
  });

  it('an existing plain key is sealed on first use with a protection and the plain copy removed: same key', () => {
    const dir = fresh();
    const k = openKey(dir, 'x.key', null, () => randomBytes(32));
    const migrated: string[] = [];
    expect(
      openKey(
        dir,
        'x.key',
        PASS,
        () => randomBytes(32),
        (f) => migrated.push(f),
      ),
    ).toEqual(k);
    expect(migrated).toEqual([join(dir, 'keys', 'x.key')]);
    expect(existsSync(join(dir, 'keys', 'x.key'))).toBe(false);
    expect(openKey(dir, 'x.key', PASS, () => randomBytes(32))).toEqual(k);
  });

  it('a sealed key renamed to another key name does not open (the name is authenticated)', () => {
    const dir = fresh();
    openKey(dir, 'a.key', PASS, () => randomBytes(32));
    copyFileSync(join(dir, 'keys', 'a.key.sealed'), join(dir, 'keys', 'b.key.sealed'));
    expect(() => openKey(dir, 'b.key', PASS, () => randomBytes(32))).toThrow(/cannot unlock/);
  });

  it('a key file: refused when others can read it or when too short; else it seals', () => {
    const dir = fresh();
    const file = join(dir, 'kek');
    writeFileSync(file, randomBytes(32), { mode: 0o640 });
    chmodSync(file, 0o640);
    expect(() => keyFileProtection(file)).toThrow(
      `the key file (SENTINEL_KEY_FILE) ${file} can be read by other users (mode 640); run: chmod 600 ${file}`,
    );
    chmodSync(file, 0o600);
    const p = keyFileProtection(file);
    const k = openKey(dir, 'x.key', p, () => randomBytes(32));
    expect(openKey(dir, 'x.key', keyFileProtection(file), () => randomBytes(32))).toEqual(k);
    writeFileSync(join(dir, 'short'), 'abc', { mode: 0o600 });
    expect(() => keyFileProtection(join(dir, 'short'))).toThrow(/needs at least 32 random bytes/);
    expect(() => protectionFromEnv({ SENTINEL_KEY_FILE: file, SENTINEL_KEY_PASSPHRASE: 'x'.repeat(12) })).toThrow(/not both/);
    expect(() => protectionFromEnv({ SENTINEL_KEY_PASSPHRASE: 'short' })).toThrow(/at least 12 characters/);
    expect(protectionFromEnv({})).toBeNull();
  });

  it("the desktop app's key seals like the others; a key of the wrong size is refused", () => {
    const dir = fresh();
    const key = randomBytes(32).toString('base64');
    const k = openKey(dir, 'x.key', electronProtection(key), () => randomBytes(32));
    expect(openKey(dir, 'x.key', electronProtection(key), () => randomBytes(32))).toEqual(k);
    expect(() => openKey(dir, 'x.key', electronProtection(randomBytes(32).toString('base64')), () => randomBytes(32))).toThrow(
      /cannot unlock .* with the desktop app's key/,
    );
    expect(() => electronProtection(randomBytes(16).toString('base64'))).toThrow(/16 bytes, not 32/);
  });

  it('the evidence signing key and the camera credential key keep working across the migration', () => {
    const dir = fresh();
    const before = loadOrCreateSigningKey(dir, null);
    const vault = new CredentialVault(dir, null);
    const blob = vault.encrypt('cam1', { username: 'op', password: 'secret-1' });
    const after = loadOrCreateSigningKey(dir, PASS);
    expect(after.fingerprint).toBe(before.fingerprint);
    expect(new CredentialVault(dir, PASS).decrypt('cam1', blob)).toEqual({ username: 'op', password: 'secret-1' });
    expect(existsSync(join(dir, 'keys', 'evidence-ed25519.pem'))).toBe(false);
    expect(existsSync(join(dir, 'keys', 'camera-credentials.key'))).toBe(false);
    expect(() => loadOrCreateSigningKey(dir, null)).toThrow(/is sealed and no key protection is configured/);
  });
});
