import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../core/db/database';
import { MIGRATIONS } from '../../core/db/migrations';
import { POSTGRES_MIGRATIONS, migratePostgres } from '../../core/db/postgres/migrate';
import { openPostgresPool } from '../../core/db/postgres/pool';
import { POSTGRES_BIN, startPostgres, type RunningPostgres } from '../support/postgres';
import { login, seedAdmin, TEST_ADMIN } from '../support/auth';
import { freePort } from '../support/redis';
import { runSentinel, startServe, tempDir } from '../support/serve';

/**
 * What the two schemas must agree on. Types are compared by family only (SQLite's INTEGER is
 * Postgres's INTEGER or BIGINT), and a primary-key column counts as NOT NULL on both sides
 * (SQLite's pragma reports a TEXT PRIMARY KEY as nullable; Postgres makes it NOT NULL).
 */
interface Table {
  columns: Map<string, { family: string; notNull: boolean }>;
  primaryKey: string;
  /** Column lists of unique constraints (and of unique indexes SQLite makes for them). */
  uniques: Set<string>;
  /** Named indexes: "cols unique? partial?". */
  indexes: Map<string, string>;
}
type Schema = Map<string, Table>;

function family(declared: string): string {
  const t = declared.toUpperCase();
  if (/INT/.test(t)) return 'integer';
  if (/CHAR|TEXT|CLOB/.test(t)) return 'text';
  if (/REAL|FLOA|DOUB|NUMERIC/.test(t)) return 'real';
  if (/BLOB|BYTEA/.test(t)) return 'blob';
  return `unknown(${declared})`;
}

function describeIndex(cols: string[], unique: boolean, partial: boolean): string {
  return `(${cols.join(', ')})${unique ? ' unique' : ''}${partial ? ' partial' : ''}`;
}

function sqliteSchema(db: Database): Schema {
  const schema: Schema = new Map();
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  for (const t of tables) {
    const info = db.pragma(`table_info("${t}")`) as { name: string; type: string; notnull: number; pk: number }[];
    const columns = new Map(info.map((c) => [c.name, { family: family(c.type), notNull: c.notnull === 1 || c.pk > 0 }]));
    const primaryKey = info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name)
      .join(', ');
    const uniques = new Set<string>();
    const indexes = new Map<string, string>();
    for (const ix of db.pragma(`index_list("${t}")`) as { name: string; unique: number; origin: string; partial: number }[]) {
      const cols = (db.pragma(`index_info("${ix.name}")`) as { seqno: number; name: string }[])
        .sort((a, b) => a.seqno - b.seqno)
        .map((c) => c.name);
      if (ix.origin === 'pk') continue;
      if (ix.origin === 'u') uniques.add(cols.join(', '));
      else indexes.set(ix.name, describeIndex(cols, ix.unique === 1, ix.partial === 1));
    }
    schema.set(t, { columns, primaryKey, uniques, indexes });
  }
  return schema;
}

async function postgresSchema(client: pg.ClientBase): Promise<Schema> {
  const schema: Schema = new Map();
  const tables = await client.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'sentinel_schema' ORDER BY 1",
  );
  for (const { name: t } of tables.rows) {
    const cols = await client.query<{ name: string; type: string; nullable: string }>(
      'SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
      [t],
    );
    const columns = new Map(cols.rows.map((c) => [c.name, { family: family(c.type), notNull: c.nullable === 'NO' }]));
    const constraints = await client.query<{ type: string; cols: string[] }>(
      `SELECT c.contype AS type,
              array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS cols
         FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u')`,
      [t],
    );
    const primaryKey = constraints.rows.find((c) => c.type === 'p')?.cols.join(', ') ?? '';
    const uniques = new Set(constraints.rows.filter((c) => c.type === 'u').map((c) => c.cols.join(', ')));
    const indexes = new Map<string, string>();
    const ixs = await client.query<{ name: string; unique: boolean; partial: boolean; cols: string[] }>(
      `SELECT ic.relname AS name, i.indisunique AS unique, i.indpred IS NOT NULL AS partial,
              array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k)::text[] AS cols
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = $1::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
      [t],
    );
    for (const ix of ixs.rows) {
      // SQLite's `UNIQUE COLLATE NOCASE` column is, on Postgres, a unique index on lower(col).
      const nocase = ix.cols.map((c) => /^lower\((\w+)\)$/.exec(c)?.[1]);
      if (ix.unique && !ix.partial && nocase.every((c) => c !== undefined)) uniques.add(nocase.join(', '));
      else indexes.set(ix.name, describeIndex(ix.cols, ix.unique, ix.partial));
    }
    schema.set(t, { columns, primaryKey, uniques, indexes });
  }
  return schema;
}

/** Every way the Postgres schema falls short of (or differs from) SQLite's, one line each. */
function differences(sqlite: Schema, postgres: Schema): string[] {
  const out: string[] = [];
  for (const [t, s] of sqlite) {
    const p = postgres.get(t);
    if (!p) {
      out.push(`table ${t} is in SQLite but not in the Postgres schema`);
      continue;
    }
    for (const [c, sc] of s.columns) {
      const pc = p.columns.get(c);
      if (!pc) out.push(`column ${t}.${c} is in SQLite but not in Postgres`);
      else {
        if (pc.family !== sc.family) out.push(`column ${t}.${c}: SQLite ${sc.family}, Postgres ${pc.family}`);
        if (pc.notNull !== sc.notNull)
          out.push(`column ${t}.${c}: SQLite ${sc.notNull ? 'NOT NULL' : 'nullable'}, Postgres ${pc.notNull ? 'NOT NULL' : 'nullable'}`);
      }
    }
    for (const c of p.columns.keys()) if (!s.columns.has(c)) out.push(`column ${t}.${c} is in Postgres but not in SQLite`);
    if (s.primaryKey !== p.primaryKey) out.push(`table ${t}: primary key SQLite (${s.primaryKey}), Postgres (${p.primaryKey})`);
    for (const u of s.uniques) if (!p.uniques.has(u)) out.push(`table ${t}: unique (${u}) is in SQLite but not in Postgres`);
    for (const u of p.uniques) if (!s.uniques.has(u)) out.push(`table ${t}: unique (${u}) is in Postgres but not in SQLite`);
    for (const [name, d] of s.indexes) {
      const pd = p.indexes.get(name);
      if (pd === undefined) out.push(`index ${name} ${d} on ${t} is in SQLite but not in Postgres`);
      else if (pd !== d) out.push(`index ${name} on ${t}: SQLite ${d}, Postgres ${pd}`);
    }
    for (const name of p.indexes.keys()) if (!s.indexes.has(name)) out.push(`index ${name} on ${t} is in Postgres but not in SQLite`);
  }
  for (const t of postgres.keys()) if (!sqlite.has(t)) out.push(`table ${t} is in Postgres but not in SQLite`);
  return out;
}

/** The version both schemas are at: every assertion on "the latest" follows the next migration. */
const LATEST = POSTGRES_MIGRATIONS.at(-1)!.version;

describe.skipIf(!POSTGRES_BIN)('the Postgres schema (skipped without the postgresql server binaries)', () => {
  let server: RunningPostgres;
  let url: string;

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase('parity');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('has a twin for every SQLite migration: the same version and the same tables, columns, keys and indexes', async () => {
    const sqliteLatest = MIGRATIONS.at(-1)?.version;
    expect(
      POSTGRES_MIGRATIONS.at(-1)?.version,
      `SQLite is at version ${sqliteLatest}: add its Postgres twin to core/db/postgres (POSTGRES_MIGRATIONS)`,
    ).toBe(sqliteLatest);

    expect(await migratePostgres(url)).toBe(sqliteLatest);
    const db = new BetterSqlite3(':memory:');
    migrate(db);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const sqlite = sqliteSchema(db);
      expect(sqlite.size).toBeGreaterThan(30);
      expect(differences(sqlite, await postgresSchema(client))).toEqual([]);
    } finally {
      await client.end();
      db.close();
    }
  });

  it('names what is missing when a SQLite migration has no Postgres twin', async () => {
    // A stand-in for a later migration: a new table, a new column and a new index on SQLite only.
    const db = new BetterSqlite3(':memory:');
    migrate(db);
    db.exec(`CREATE TABLE radios (id TEXT PRIMARY KEY, channel INTEGER NOT NULL) STRICT;
             ALTER TABLE cameras ADD COLUMN radio_id TEXT;
             CREATE INDEX cameras_radio ON cameras (radio_id);`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect(differences(sqliteSchema(db), await postgresSchema(client))).toEqual([
        'column cameras.radio_id is in SQLite but not in Postgres',
        'index cameras_radio (radio_id) on cameras is in SQLite but not in Postgres',
        'table radios is in SQLite but not in the Postgres schema',
      ]);
    } finally {
      await client.end();
      db.close();
    }
  });

  it('migrates idempotently, records its version once, and refuses a database it did not make', async () => {
    expect(await migratePostgres(url)).toBe(LATEST);
    expect(await migratePostgres(url)).toBe(LATEST);
    const pool = openPostgresPool(url);
    try {
      const versions = await pool.query<{ version: number }>('SELECT version FROM sentinel_schema ORDER BY version');
      expect(versions.rows).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ version: m.version })));

      const stranger = await server.createDatabase('stranger');
      const s = new pg.Client({ connectionString: stranger });
      await s.connect();
      await s.query('CREATE TABLE somebody_elses (id int)');
      await s.end();
      await expect(migratePostgres(stranger)).rejects.toThrow(/has tables but no Sentinel schema version/);

      // A database made by an earlier Sentinel (the baseline only) takes the later steps and keeps its rows.
      const earlier = await server.createDatabase('earlier');
      expect(await migratePostgres(earlier, POSTGRES_MIGRATIONS.slice(0, 1))).toBe(20);
      const e = new pg.Client({ connectionString: earlier });
      await e.connect();
      try {
        await e.query(
          "INSERT INTO evidence_exports (id, incident_id, state, created_by, created_at) VALUES ('e1', 'i1', 'building', 'rev', 'now')",
        );
        expect(await migratePostgres(earlier)).toBe(LATEST);
        expect((await e.query('SELECT version FROM sentinel_schema ORDER BY version')).rows).toEqual(
          POSTGRES_MIGRATIONS.map((m) => ({ version: m.version })),
        );
        expect((await e.query('SELECT id, state, builder, heartbeat_at_ms FROM evidence_exports')).rows).toEqual([
          { id: 'e1', state: 'building', builder: null, heartbeat_at_ms: null },
        ]);
      } finally {
        await e.end();
      }

      await expect(migratePostgres(url, [{ version: 19, name: 'old', sql: 'SELECT 1' }])).rejects.toThrow(
        new RegExp(`schema version ${LATEST}, newer than this Sentinel \\(19\\)`),
      );
    } finally {
      await pool.end();
    }
  });

  it('reads BIGINT epoch-ms back as numbers and keeps the audit and lifecycle log append-only', async () => {
    const pool = openPostgresPool(url);
    try {
      const ms = Date.UTC(2026, 11, 2, 14, 0, 0, 123);
      await pool.query(
        "INSERT INTO leases (name, holder, expires_at_ms, acquired_at, renewed_at) VALUES ('job', 'replica-a', $1, 'now', 'now')",
        [ms],
      );
      const lease = await pool.query<{ expires_at_ms: unknown; fence: unknown }>(
        "SELECT expires_at_ms, fence FROM leases WHERE name = 'job'",
      );
      expect(lease.rows[0]).toEqual({ expires_at_ms: ms, fence: 1 });

      await pool.query("INSERT INTO audit (seq, at, action, prev_hash, hash) VALUES (1, 'now', 'test', $1, $1)", ['0'.repeat(64)]);
      await expect(pool.query("UPDATE audit SET action = 'forged'")).rejects.toThrow(/audit is append-only/);
      await expect(pool.query('DELETE FROM audit')).rejects.toThrow(/audit is append-only/);
      await expect(pool.query('TRUNCATE lifecycle_events CASCADE')).rejects.toThrow(/lifecycle_events is append-only/);
      await expect(
        pool.query("INSERT INTO user_prefs (user_id, key, value, updated_at) VALUES ('u', 'k', 'not json', 'now')"),
      ).rejects.toThrow();
    } finally {
      await pool.end();
    }
  });

  it("`sentinel db migrate` applies the schema to an operator's database, and `serve` runs on it: users, sessions and health from Postgres, no SQLite file", async () => {
    const target = await server.createDatabase('operator');
    const first = await runSentinel(['db', 'migrate', '--url', target]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`Postgres database 127\\.0\\.0\\.1:\\d+/operator is at schema version ${LATEST}\n`));
    const again = await runSentinel(['db', 'migrate'], { env: { SENTINEL_DATABASE_URL: target } });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`schema version ${LATEST}\n`);

    const bad = await runSentinel(['db', 'migrate', '--url', 'mysql://db/sentinel']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--url is not a postgres://');

    const dataDir = tempDir();
    await seedAdmin(dataDir, target);
    const core = await startServe({ dataDir, env: { SENTINEL_DATABASE_URL: target }, auth: false });
    try {
      const admin = await login(core.url, TEST_ADMIN.username, TEST_ADMIN.password);
      const health = (await (await admin.api('/api/v1/health')).json()) as { database: unknown };
      expect(health.database).toEqual({ dialect: 'postgres', schemaVersion: LATEST, journalMode: null });
      // The sign-in was audited in Postgres's chain, and nothing fell back to a SQLite file.
      const pool = openPostgresPool(target, 1);
      try {
        const r = await pool.query<{ action: string }>("SELECT action FROM audit WHERE action = 'auth.login'");
        expect(r.rows.length).toBe(1);
      } finally {
        await pool.end();
      }
      expect(existsSync(join(dataDir, 'sentinel.db'))).toBe(false);
    } finally {
      await core.stop();
    }

    // An unreachable server: one clear line naming host and database, never the password.
    const closed = await freePort();
    const serve = await runSentinel(['serve', '--port', '0', '--data-dir', tempDir()], {
      env: { SENTINEL_DATABASE_URL: `postgres://sentinel:s3cret-pw@127.0.0.1:${closed}/nowhere` },
    });
    expect(serve.code).not.toBe(0);
    expect(serve.stderr).toMatch(new RegExp(`Postgres database 127\\.0\\.0\\.1:${closed}/nowhere cannot be reached`));
    expect(serve.stderr).not.toContain('s3cret-pw');
  });

  it("a data command pointed at a database that is not Sentinel's refuses it, naming it, and leaves it empty", async () => {
    const empty = await server.createDatabase('not_sentinel');
    const dataDir = tempDir();
    await seedAdmin(dataDir);
    const env = { SENTINEL_DATABASE_URL: empty };
    for (const args of [
      ['audit', 'verify', '--data-dir', dataDir],
      ['users', 'list', '--data-dir', dataDir],
      ['nodes', 'list', '--data-dir', dataDir],
      ['report', 'monthly', '--month', '2026-10', '--out', join(dataDir, 'report'), '--data-dir', dataDir],
    ]) {
      const r = await runSentinel(args, { env });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/Postgres database 127\.0\.0\.1:\d+\/not_sentinel holds no Sentinel data/);
    }
    const pool = openPostgresPool(empty, 1);
    try {
      const r = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'");
      expect(r.rows[0]!.n).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
