import { sql } from 'kysely';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AuditCheckpoint, AuditCheckpointList, AuditVerify } from '../../contract';
import type { AuditTables } from '../../core/audit/tables';
import { GENESIS_HASH, recordHash } from '../../core/audit/trail';
import type { SqlDb } from '../../core/db/sql';
import { login } from '../support/auth';
import { num, one, serveSql } from '../support/rows';
import { runSentinel, startServe, tempDir, type RunningServe } from '../support/serve';

/** An installation the CLI can be pointed at: a data directory and, on a Postgres run, its database. */
interface Installation {
  dataDir: string;
  databaseUrl: string | undefined;
}

const cli = (args: string[], at: Installation): ReturnType<typeof runSentinel> =>
  runSentinel([...args, '--data-dir', at.dataDir], { env: at.databaseUrl ? { SENTINEL_DATABASE_URL: at.databaseUrl } : {} });

/**
 * A copy of a stopped installation to tamper with, the original kept for the next test: the
 * data directory (its signing key) and the database. SQLite's is a file in the directory;
 * Postgres copies a database by making it the template of a new one.
 */
async function copyInstallation(from: Installation, dataDir: string): Promise<Installation> {
  cpSync(from.dataDir, dataDir, { recursive: true });
  if (!from.databaseUrl) return { dataDir, databaseUrl: undefined };
  const admin = inject('postgresAdminUrl');
  if (!admin) throw new Error('a Postgres run without its server (test/support/postgres-global.ts)');
  const source = new URL(from.databaseUrl);
  const name = `${source.pathname.slice(1)}_copy_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${source.pathname.slice(1)}`);
  } finally {
    await client.end();
  }
  source.pathname = `/${name}`;
  return { dataDir, databaseUrl: source.toString() };
}

/**
 * What an intruder with write access to the database does to get past an append-only trigger:
 * SQLite's can be dropped; on Postgres the table's owner (the test server's superuser) disables
 * it, the usual way (its DROP TRIGGER would need the table too).
 */
const bypassTrigger = (db: SqlDb, table: string, trigger: string): Promise<unknown> =>
  (db.dialect === 'sqlite'
    ? sql`DROP TRIGGER ${sql.id(trigger)}`
    : sql`ALTER TABLE ${sql.id(table)} DISABLE TRIGGER ${sql.id(trigger)}`
  ).execute(db.as());

/**
 * What the intruder then does to hide one failed sign-in: write a whole new chain, every hash
 * recomputed, times kept.
 */
async function rewriteChain(at: Installation, opts: { deleteCheckpoints?: boolean } = {}): Promise<number> {
  const db = await serveSql(at);
  try {
    const rows = await db.as<AuditTables>().selectFrom('audit').selectAll().orderBy('seq').execute();
    const victim = rows.find((r) => r.action === 'auth.login_failed')!.seq;
    await bypassTrigger(db, 'audit', 'audit_no_delete');
    await sql`DELETE FROM audit`.execute(db.as());
    if (opts.deleteCheckpoints) {
      await bypassTrigger(db, 'audit_checkpoints', 'audit_checkpoints_no_delete');
      await sql`DELETE FROM audit_checkpoints`.execute(db.as());
    }
    let prev = GENESIS_HASH;
    for (const r of rows) {
      const forged = { ...r, action: r.seq === victim ? 'auth.login' : r.action, prev_hash: prev };
      forged.hash = recordHash(forged);
      await db.as<AuditTables>().insertInto('audit').values(forged).execute();
      prev = forged.hash;
    }
    return victim;
  } finally {
    await db.close();
  }
}

// A real `sentinel serve` writes the checkpoints; the real CLI exports and verifies them against
// its real database (SQLite file or Postgres database) edited behind its back.
describe('signed audit checkpoints', () => {
  const root = tempDir('sentinel-anchor-');
  const dataDir = join(root, 'data');
  const original: Installation = { dataDir, databaseUrl: undefined };
  const notary = join(root, 'notary.jsonl');
  let core: RunningServe | null = null;
  afterAll(async () => {
    await core?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('the core signs the head every N records and at shutdown; the API verifies against them', async () => {
    const config = join(root, 'sentinel.json');
    writeFileSync(config, JSON.stringify({ audit: { checkpointEveryRecords: 5 } }));
    core = await startServe({ dataDir, args: ['--config', config] });
    original.databaseUrl = core.databaseUrl;
    const failed = await fetch(new URL('/api/v1/auth/login', core.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'test-admin', password: 'wrong-password' }),
    });
    expect(failed.status).toBe(401);
    for (let i = 0; i < 12; i++) expect((await core.api('/api/v1/audit?limit=1')).status).toBe(200);
    const list = AuditCheckpointList.parse(await (await core.api('/api/v1/audit/checkpoints')).json());
    expect(list.checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(list.checkpoints.every((c, i) => c.id === i + 1 && c.keyFingerprint === list.keyFingerprint)).toBe(true);
    expect(list.checkpoints.map((c) => c.seq).every((s) => s % 5 === 0)).toBe(true);
    const v = AuditVerify.parse(await (await core.api('/api/v1/audit/verify')).json());
    expect(v).toMatchObject({ ok: true, firstBroken: null, badCheckpoint: null, keyFingerprint: list.keyFingerprint });
    // Listing the checkpoints is audited too, and may have been the record that made the next one due.
    expect(v.anchoredSeq).toBeGreaterThanOrEqual(list.checkpoints.at(-1)!.seq);
    // Another sign-in so the head is past the last checkpoint; stopping the core anchors it.
    await login(core.url, 'test-admin', 'test-admin-password-not-for-production');
    expect(await core.stop()).toBe(0);
    core = null;

    const exported = await cli(['audit', 'checkpoints', 'export', '--out', notary], original);
    expect(exported.code).toBe(0);
    const lines = readFileSync(notary, 'utf8').trim().split('\n');
    const last = AuditCheckpoint.parse(JSON.parse(lines.at(-1)!));
    const db = await serveSql(original);
    const head = await one(
      db,
      sql<{ seq: number }>`SELECT seq FROM audit WHERE action <> 'audit.checkpoints_export' ORDER BY seq DESC LIMIT 1`,
    );
    await db.close();
    expect(last.seq).toBe(head?.seq);
    expect(exported.stderr).toContain(`${lines.length} checkpoints written to ${notary}`);

    const ok = await cli(['audit', 'verify', '--anchor', notary], original);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(AuditVerify.parse(JSON.parse(ok.stdout))).toMatchObject({ ok: true, checkpoints: lines.length * 2, anchoredSeq: last.seq });
  });

  it('a chain rewritten consistently fails verification at the first checkpoint it no longer matches', async () => {
    const copy = await copyInstallation(original, join(root, 'rewritten'));
    const victim = await rewriteChain(copy);
    const r = await cli(['audit', 'verify'], copy);
    expect(r.code).toBe(1);
    // The failed sign-in is the first record after the admin's seeding: the first checkpoint (record 5) catches it.
    expect(victim).toBeLessThanOrEqual(5);
    expect(r.stderr.trim()).toMatch(
      /^sentinel: audit trail fails verification at record 1: record 5 does not match checkpoint 1 \(signed .*\): records 1\.\.5 were rewritten after they were checkpointed$/,
    );
  });

  it('deleting every checkpoint as well fools the database alone, not the exported anchor', async () => {
    const copy = await copyInstallation(original, join(root, 'no-checkpoints'));
    await rewriteChain(copy, { deleteCheckpoints: true });
    const alone = await cli(['audit', 'verify'], copy);
    expect(alone.code).toBe(0);
    expect(AuditVerify.parse(JSON.parse(alone.stdout))).toMatchObject({ ok: true, checkpoints: 0, anchoredSeq: null });
    const anchored = await cli(['audit', 'verify', '--anchor', notary], copy);
    expect(anchored.code).toBe(1);
    expect(anchored.stderr.trim()).toMatch(/^sentinel: audit trail fails verification at record 1: record 5 does not match checkpoint 1 /);
  });

  it('deleting the newest checkpoints (chain untouched) is caught against the anchor, and a bad anchor file is named', async () => {
    const copy = await copyInstallation(original, join(root, 'tail-deleted'));
    const db = await serveSql(copy);
    const newest = await num(db, sql<{ n: number }>`SELECT MAX(id) AS n FROM audit_checkpoints`);
    await bypassTrigger(db, 'audit_checkpoints', 'audit_checkpoints_no_delete');
    await sql`DELETE FROM audit_checkpoints WHERE id = ${newest}`.execute(db.as());
    await db.close();
    expect((await cli(['audit', 'verify'], copy)).code).toBe(0);
    const r = await cli(['audit', 'verify', '--anchor', notary], copy);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `at checkpoint ${newest}: checkpoint ${newest} \\(record \\d+, signed .*\\) from .*notary.jsonl is missing from the database \\(deleted\\)`,
      ),
    );

    const bad = join(root, 'bad.jsonl');
    writeFileSync(bad, `${readFileSync(notary, 'utf8')}{"id":"x"}\n`);
    const refused = await cli(['audit', 'verify', '--anchor', bad], copy);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bad.jsonl line \d+: id: /);
    const missing = await cli(['audit', 'verify', '--anchor', join(root, 'nope.jsonl')], copy);
    expect(missing.stderr).toMatch(/cannot read the anchor file .*nope.jsonl: ENOENT/);
  });
});
