import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { User } from '../../contract';
import { openDatabase } from '../../core/db/database';
import { seedAdmin, TEST_ADMIN } from '../support/auth';
import { runSentinel, tempDir } from '../support/serve';

describe('sentinel users reset-mfa (break-glass for a lost phone and lost recovery codes)', () => {
  const dataDir = tempDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("resets the user's factor and codes, audits it, leaves a notice; an unknown user is named and nothing changes", async () => {
    await seedAdmin(dataDir);
    const unknown = await runSentinel(['users', 'reset-mfa', '--username', 'nobody', '--data-dir', dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('sentinel: no user named "nobody" in this data directory');
    const missing = await runSentinel(['users', 'reset-mfa', '--username', 'x', '--data-dir', join(dataDir, 'typo')]);
    expect(missing.code).toBe(1);

    const ok = await runSentinel(['users', 'reset-mfa', '--username', TEST_ADMIN.username, '--data-dir', dataDir]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(User.parse(JSON.parse(ok.stdout))).toMatchObject({ username: TEST_ADMIN.username, totpEnabled: false });
    const db = openDatabase(join(dataDir, 'sentinel.db'));
    try {
      expect(db.prepare('SELECT count(*) AS n FROM recovery_codes').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT kind, seen_at FROM user_notices').all()).toEqual([{ kind: 'mfa_reset', seen_at: null }]);
      const rec = db.prepare("SELECT actor, detail FROM audit WHERE action = 'user.mfa_reset'").get() as { actor: string; detail: string };
      expect(rec.actor).toBe('cli');
      expect(JSON.parse(rec.detail)).toMatchObject({ username: TEST_ADMIN.username, hadFactor: true, via: 'sentinel users reset-mfa' });
    } finally {
      db.close();
    }
  });
});
