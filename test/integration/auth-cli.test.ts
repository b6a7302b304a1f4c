import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { User } from '../../contract';
import { login } from '../support/auth';
import { testDatabaseUrl } from '../support/core';
import { REPO_ROOT, SENTINEL_BIN, startServe, tempDir } from '../support/serve';

/** Runs the CLI with text on stdin (passwords never go in flags), on the installation's database. */
function sentinel(
  args: string[],
  stdin: string,
  databaseUrl: string | undefined,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [SENTINEL_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn', ...(databaseUrl ? { SENTINEL_DATABASE_URL: databaseUrl } : {}) },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => res({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

describe('sentinel users', () => {
  const dataDir = tempDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('create-admin makes the first administrator from a password on stdin, once; the core then accepts it', async () => {
    const databaseUrl = await testDatabaseUrl();
    const short = await sentinel(['users', 'create-admin', '--username', 'chief', '--data-dir', dataDir, '--init'], 'short\n', databaseUrl);
    expect(short.code).toBe(1);
    expect(short.stderr.trim()).toBe('sentinel: password from stdin: password must be at least 12 characters');
    const ok = await sentinel(
      ['users', 'create-admin', '--username', 'chief', '--data-dir', dataDir, '--init'],
      'a-long-admin-password\n',
      databaseUrl,
    );
    expect(ok.code).toBe(0);
    expect(User.parse(JSON.parse(ok.stdout))).toMatchObject({ username: 'chief', role: 'admin' });
    const twice = await sentinel(
      ['users', 'create-admin', '--username', 'other', '--data-dir', dataDir],
      'a-long-admin-password\n',
      databaseUrl,
    );
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('an administrator exists');
    const liaison = await sentinel(
      ['users', 'create', '--username', 'lee', '--role', 'liaison', '--districts', '1,18', '--data-dir', dataDir],
      'liaison-password-1\n',
      databaseUrl,
    );
    expect(liaison.code, liaison.stderr).toBe(0);
    expect(User.parse(JSON.parse(liaison.stdout)).scope.districts).toEqual(['1', '18']);
    const bad = await sentinel(
      ['users', 'create', '--username', 'x', '--role', 'sheriff', '--data-dir', dataDir],
      'liaison-password-1\n',
      databaseUrl,
    );
    expect(bad.stderr.trim()).toBe('sentinel: --role "sheriff" is not one of operator, liaison, technician, reviewer, admin');

    const core = await startServe({ dataDir, auth: false, databaseUrl });
    try {
      const chief = await login(core.url, 'chief', 'a-long-admin-password');
      expect(chief.session.user.role).toBe('admin');
    } finally {
      await core.stop();
    }
  });
});
