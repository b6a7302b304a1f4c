import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Camera, MASTER_KEY_MESSAGE, type MasterKeyMessage } from '../../contract';
import { ON_POSTGRES, testDatabaseUrl } from '../support/core';
import { everyStoredValue, one, serveSql } from '../support/rows';
import { REPO_ROOT, runSentinel, SENTINEL_BIN, startServe, tempDir } from '../support/serve';
import { sql } from 'kysely';

/** The environment naming a core's database: a Postgres one on a Postgres run, none (the data directory's file) on SQLite. */
function databaseEnv(url: string | undefined): NodeJS.ProcessEnv {
  return url ? { SENTINEL_DATABASE_URL: url } : {};
}

/**
 * The core started as the desktop app starts it: SENTINEL_KEY_SOURCE=parent, the key arriving
 * as the first message on the parent channel. Electron cannot run here; a Node IPC channel
 * carries the same message to the same code (core/keys/parent.ts listens on both).
 */
function serveUnderParent(
  dataDir: string,
  key: string | null,
  databaseUrl: string | undefined,
): Promise<{ url: string | null; code: number | null; stderr: string }> {
  return new Promise((res) => {
    const p = fork(SENTINEL_BIN, ['serve', '--port', '0', '--data-dir', dataDir, '--assets', '/nonexistent-assets'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        SENTINEL_LOG_LEVEL: 'warn',
        SENTINEL_KEY_SOURCE: 'parent',
        SENTINEL_KEY_PASSPHRASE: '',
        SENTINEL_KEY_FILE: '',
        ...databaseEnv(databaseUrl),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let out = '';
    let stderr = '';
    let url: string | null = null;
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Sentinel console at (\S+)/.exec(out);
      if (m && !url) {
        url = m[1]!;
        p.send('shutdown'); // started: stop it the way the desktop app does
      }
    });
    p.on('exit', (code) => res({ url, code, stderr }));
    if (key) p.send({ type: MASTER_KEY_MESSAGE, key } satisfies MasterKeyMessage);
  });
}

describe('keys at rest, end to end through the CLI', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("under the desktop app the core seals its keys with the app's key, and refuses another key", async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const key = randomBytes(32).toString('base64');
    const databaseUrl = await testDatabaseUrl();
    const first = await serveUnderParent(dataDir, key, databaseUrl);
    expect(first.url, first.stderr).not.toBeNull();
    const files = readdirSync(join(dataDir, 'keys')).sort();
    expect(files).toContain('camera-credentials.key.sealed');
    expect(files).not.toContain('camera-credentials.key');
    expect(files.filter((f) => !f.endsWith('.sealed'))).toEqual([]);

    const again = await serveUnderParent(dataDir, key, databaseUrl);
    expect(again.url, again.stderr).not.toBeNull();

    const wrong = await serveUnderParent(dataDir, randomBytes(32).toString('base64'), databaseUrl);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      `cannot unlock ${join(dataDir, 'keys', 'camera-credentials.key.sealed')} with the desktop app's key (safeStorage)`,
    );
  });

  it('a passphrase on a server: plain keys of an older installation are sealed, the evidence key stays the same', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const db = databaseEnv(await testDatabaseUrl());
    const plain = await runSentinel(['users', 'create-admin', '--username', 'chief', '--data-dir', dataDir, '--init'], {
      env: { ...db, SENTINEL_KEY_PASSPHRASE: '' },
      stdin: 'a-long-admin-password\n',
    });
    expect(plain.code, plain.stderr).toBe(0);
    const before = await runSentinel(['evidence', 'key', '--data-dir', dataDir], { env: { ...db, SENTINEL_KEY_PASSPHRASE: '' } });
    expect(before.code, before.stderr).toBe(0);
    expect(existsSync(join(dataDir, 'keys', 'evidence-ed25519.pem'))).toBe(true);

    const env = { ...db, SENTINEL_KEY_PASSPHRASE: 'the control center passphrase' };
    const sealed = await runSentinel(['evidence', 'key', '--data-dir', dataDir], { env });
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(sealed.stdout).toBe(before.stdout);
    expect(existsSync(join(dataDir, 'keys', 'evidence-ed25519.pem'))).toBe(false);
    expect(existsSync(join(dataDir, 'keys', 'evidence-ed25519.pem.sealed'))).toBe(true);

    const none = await runSentinel(['evidence', 'key', '--data-dir', dataDir], { env: { ...db, SENTINEL_KEY_PASSPHRASE: '' } });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('is sealed and no key protection is configured: set SENTINEL_KEY_PASSPHRASE or SENTINEL_KEY_FILE');
    const wrong = await runSentinel(['evidence', 'key', '--data-dir', dataDir], {
      env: { ...db, SENTINEL_KEY_PASSPHRASE: 'not the passphrase at all' },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('cannot unlock');
  });

  it('SENTINEL_KEY_SOURCE=parent with no parent channel, or an unknown source, is refused', async () => {
    const r = await runSentinel(['serve', '--port', '0', '--data-dir', tempDir()], {
      env: { ...databaseEnv(await testDatabaseUrl()), SENTINEL_KEY_SOURCE: 'parent' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SENTINEL_KEY_SOURCE=parent, but this core has no parent process channel');
    const u = await runSentinel(['serve', '--port', '0', '--data-dir', tempDir()], {
      env: { ...databaseEnv(await testDatabaseUrl()), SENTINEL_KEY_SOURCE: 'keychain' },
    });
    expect(u.stderr).toContain('SENTINEL_KEY_SOURCE="keychain" is not known');
  });

  it("a camera's credentials are in no stored row in clear, on whichever database the core runs", async () => {
    const core = await startServe({ env: { SENTINEL_KEY_PASSPHRASE: 'the control center passphrase' } });
    const db = await serveSql(core);
    try {
      // The passwords are the secrets; a user name is shown in masked URLs (and so in the audit) by design.
      const secrets = { password: 'camera-password-42', inUrl: 'url-embedded-secret' };
      const res = await core.api('/api/v1/cameras', {
        method: 'POST',
        body: JSON.stringify({
          name: 'Credential platform',
          url: 'rtsp://127.0.0.1:9/main',
          subUrl: `rtsp://sub-viewer:${secrets.inUrl}@127.0.0.1:9/sub`,
          username: 'platform-viewer',
          password: secrets.password,
          analyticsEnabled: false,
          recordingEnabled: false,
        }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const cam = Camera.parse(await res.json());
      const row = await one(db, sql<{ credentials: Buffer | null }>`SELECT credentials FROM cameras WHERE id = ${cam.id}`);
      expect(Buffer.isBuffer(row?.credentials)).toBe(true);
      const stored = await everyStoredValue(db);
      // The dump holds the camera (so it is the core's database), never a credential.
      expect(stored.includes(Buffer.from('Credential platform'))).toBe(true);
      for (const s of Object.values(secrets)) expect(stored.includes(Buffer.from(s)), s).toBe(false);
      if (!ON_POSTGRES) {
        // The SQLite file and its write-ahead log, as a copied disk would hold them.
        for (const f of ['sentinel.db', 'sentinel.db-wal'].map((n) => join(core.dataDir, n)).filter((f) => existsSync(f)))
          for (const s of Object.values(secrets)) expect(readFileSync(f).includes(Buffer.from(s)), `${s} in ${f}`).toBe(false);
      }
    } finally {
      await db.close();
      await core.stop();
    }
  });
});
