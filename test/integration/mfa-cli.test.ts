import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { User } from '../../contract';
import { openData } from '../../core/db/open';
import { seedAdmin, TEST_ADMIN } from '../support/auth';
import { testDatabaseUrl } from '../support/core';
import { num, one, rows } from '../support/rows';
import { runSentinel, tempDir } from '../support/serve';
import { sql } from 'kysely';

describe('sentinel users reset-mfa (break-glass for a lost phone and lost recovery codes)', () => {
  const dataDir = tempDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("resets the user's factor and codes, audits it, leaves a notice; an unknown user is named and nothing changes", async () => {
    // The command reads the installation's database: on a Postgres run, the one named to it.
    const databaseUrl = await testDatabaseUrl();
    const env = databaseUrl ? { SENTINEL_DATABASE_URL: databaseUrl } : {};
    await seedAdmin(dataDir, databaseUrl);
    const unknown = await runSentinel(['users', 'reset-mfa', '--username', 'nobody', '--data-dir', dataDir], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('sentinel: no user named "nobody" in this data directory');
    const missing = await runSentinel(['users', 'reset-mfa', '--username', 'x', '--data-dir', join(dataDir, 'typo')], { env });
    expect(missing.code).toBe(1);

    const ok = await runSentinel(['users', 'reset-mfa', '--username', TEST_ADMIN.username, '--data-dir', dataDir], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(User.parse(JSON.parse(ok.stdout))).toMatchObject({ username: TEST_ADMIN.username, totpEnabled: false });
    const db = await openData({ dataDir, database: { url: databaseUrl } });
    try {
      expect(await num(db, sql<{ n: number }>`SELECT count(*) AS n FROM recovery_codes`)).toBe(0);
      expect(await rows(db, sql`SELECT kind, seen_at FROM user_notices`)).toEqual([{ kind: 'mfa_reset', seen_at: null }]);
      const rec = (await one(db, sql<{ actor: string; detail: string }>`SELECT actor, detail FROM audit WHERE action = 'user.mfa_reset'`))!;
      expect(rec.actor).toBe('cli');
      expect(JSON.parse(rec.detail)).toMatchObject({ username: TEST_ADMIN.username, hadFactor: true, via: 'sentinel users reset-mfa' });
    } finally {
      await db.close();
    }
  });
});
