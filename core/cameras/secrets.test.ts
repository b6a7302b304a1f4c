import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CredentialVault } from './secrets';

describe('CredentialVault', () => {
  it('round-trips credentials with @ : % and keeps the key file private', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vault-'));
    const v = new CredentialVault(dir, null);
    const blob = v.encrypt('cam1', { username: 'op@cta', password: 'p:a@s%s' });
    expect(blob).not.toBeNull();
    expect(blob!.toString('latin1')).not.toContain('p:a@s%s');
    expect(new CredentialVault(dir, null).decrypt('cam1', blob)).toEqual({ username: 'op@cta', password: 'p:a@s%s' });
    expect(statSync(join(dir, 'keys', 'camera-credentials.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'keys', 'camera-credentials.key'))).toHaveLength(32);
  });

  it('refuses a ciphertext moved to another camera, or read with another key', () => {
    const v = new CredentialVault(mkdtempSync(join(tmpdir(), 'vault-')), null);
    const blob = v.encrypt('cam1', { password: 'x' });
    expect(() => v.decrypt('cam2', blob)).toThrow(/cannot be decrypted/);
    expect(() => new CredentialVault(mkdtempSync(join(tmpdir(), 'vault-')), null).decrypt('cam1', blob)).toThrow(/cannot be decrypted/);
    expect(v.encrypt('cam1', {})).toBeNull();
  });
});
