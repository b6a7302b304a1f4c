import { sql } from 'kysely';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditList, AuditVerify } from '../../contract';
import { createAndLogin } from '../support/auth';
import { one, serveSql } from '../support/rows';
import { runSentinel, startServe, tempDir, type RunningServe } from '../support/serve';

// The audit trail end to end: a real `sentinel serve`, the real CLI, the database (the SQLite
// file, or the Postgres database) edited behind the core's back the way an intruder with write
// access to it would.
describe('tamper-evident audit trail', () => {
  const dataDir = tempDir();
  let core: RunningServe | null = null;
  // The core's Postgres database on a Postgres run (the CLI is pointed at it), else undefined.
  let databaseUrl: string | undefined;
  const cli = (args: string[]): ReturnType<typeof runSentinel> =>
    runSentinel(args, { env: databaseUrl ? { SENTINEL_DATABASE_URL: databaseUrl } : {} });
  afterAll(async () => {
    await core?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records sign-ins (good and bad), user changes, incident changes and audit reads, chained', async () => {
    core = await startServe({ dataDir });
    databaseUrl = core.databaseUrl;
    const op = await createAndLogin(core.url, core.admin!, { username: 'olly', password: 'operator-password-1', role: 'operator' });
    await fetch(new URL('/api/v1/auth/login', core.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'olly', password: 'not-the-password' }),
    });
    await core.api('/api/v1/test-alert', { method: 'POST', body: JSON.stringify({ district: '1' }) });
    const inc = ((await (await op.api('/api/v1/incidents')).json()) as { incidents: { id: string }[] }).incidents[0]!;
    expect((await op.api(`/api/v1/incidents/${inc.id}`, { method: 'PATCH', body: JSON.stringify({ state: 'acknowledged' }) })).status).toBe(
      200,
    );
    // An operator may not read the trail; a reviewer may, and that read is itself audited.
    expect((await op.api('/api/v1/audit')).status).toBe(403);
    const rev = await createAndLogin(core.url, core.admin!, { username: 'rita', password: 'reviewer-password-1', role: 'reviewer' });
    const list = AuditList.parse(await (await rev.api('/api/v1/audit?limit=100')).json()).records;
    const actions = list.map((r) => `${r.action}:${r.actor ?? '-'}`).reverse();
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.login:test-admin',
        'user.create:test-admin',
        'auth.login:olly',
        'auth.login_failed:olly',
        'alert.test:test-admin',
        'incident.update:olly',
        'auth.login:rita',
      ]),
    );
    for (let i = 1; i < list.length; i++) expect(list[i - 1]!.prevHash).toBe(list[i]!.hash);
    const again = AuditList.parse(await (await rev.api('/api/v1/audit?action=audit.read')).json()).records;
    expect(again[0]).toMatchObject({ action: 'audit.read', actor: 'rita' });
    expect(AuditVerify.parse(await (await core.api('/api/v1/audit/verify')).json())).toMatchObject({ ok: true, firstBroken: null });
    await core.stop();
    core = null;
  });

  it('`sentinel audit verify` passes on the untouched chain and exits 1 naming the first edited record', async () => {
    const ok = await cli(['audit', 'verify', '--data-dir', dataDir]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(AuditVerify.parse(JSON.parse(ok.stdout))).toMatchObject({ ok: true });

    // The intruder drops the append-only triggers and rewrites one failed login as a success.
    const db = await serveSql({ dataDir, databaseUrl });
    const row = await one(db, sql<{ seq: number }>`SELECT seq FROM audit WHERE action = 'auth.login_failed' ORDER BY seq LIMIT 1`);
    if (!row) throw new Error('no failed sign-in was audited');
    try {
      const forge = sql`UPDATE audit SET action = 'auth.login' WHERE seq = ${row.seq}`;
      await expect(forge.execute(db.as())).rejects.toThrow(/append-only/);
      // The trigger is the only guard, and the intruder owns the database: SQLite drops it,
      // Postgres disables it (its DROP TRIGGER names the table, ALTER TABLE is the usual way).
      await (db.dialect === 'sqlite' ? sql`DROP TRIGGER audit_no_update` : sql`ALTER TABLE audit DISABLE TRIGGER audit_no_update`).execute(
        db.as(),
      );
      await forge.execute(db.as());
    } finally {
      await db.close();
    }

    const bad = await cli(['audit', 'verify', '--data-dir', dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      `sentinel: audit trail fails verification at record ${row.seq}: record ${row.seq} (auth.login): its content does not match its hash (edited)`,
    );
  });
});
