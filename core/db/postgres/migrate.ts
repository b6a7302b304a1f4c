import pg from 'pg';
import { SentinelError } from '../../errors';
import type { Logger } from '../../logger';
import { p0020 } from './0020_baseline';
import { p0021 } from './0021_export_builders';
import { postgresTypes } from './pool';
import { describePostgresUrl as describe } from './describe';

/**
 * A Postgres schema step. Versions share SQLite's numbering: the baseline is 20 (the SQLite
 * schema at 0020), and a SQLite migration 0021 has its twin here as 21. The parity test
 * (schema-parity.test.ts) fails while a twin is missing.
 */
export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [p0020, p0021];

/**
 * Any fixed 64-bit key: the advisory lock that makes two replicas starting together apply
 * the migrations once (the second waits, then finds them applied).
 */
const MIGRATE_LOCK = 0x53454e54494e454cn; // "SENTINEL"

/** The schema version recorded in `sentinel_schema`, 0 for an empty database. */
export async function postgresSchemaVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('sentinel_schema')::text AS t");
  if (!exists.rows[0]?.t) return 0;
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM sentinel_schema');
  return r.rows[0]?.v ?? 0;
}

/**
 * Brings a Postgres database up to the latest schema, all pending steps in one transaction
 * (Postgres DDL is transactional: a failed step leaves the database as it was). Idempotent:
 * a database at the latest version is left alone. Returns the version.
 */
export async function migratePostgres(
  url: string,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
  log?: Logger,
): Promise<number> {
  const client = new pg.Client({ connectionString: url, types: postgresTypes });
  try {
    await client.connect();
  } catch (err) {
    throw new SentinelError(`Postgres database ${describe(url)} cannot be reached: ${(err as Error).message}`, 'internal');
  }
  const latest = migrations.at(-1)?.version ?? 0;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK.toString()]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS sentinel_schema (
         version     INTEGER PRIMARY KEY,
         name        TEXT NOT NULL,
         applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
       )`,
    );
    const current = await postgresSchemaVersion(client);
    if (current > latest) {
      throw new SentinelError(
        `Postgres database ${describe(url)} has schema version ${current}, newer than this Sentinel (${latest}); upgrade Sentinel instead of opening it with an older one`,
        'internal',
      );
    }
    if (current === 0) {
      // A database with Sentinel's tables but no version row was made by hand or half-restored:
      // applying the baseline over it would fail halfway or, worse, succeed on a mixed schema.
      const tables = await client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'sentinel_schema'",
      );
      if ((tables.rows[0]?.n ?? 0) > 0) {
        throw new SentinelError(
          `Postgres database ${describe(url)} has tables but no Sentinel schema version; give Sentinel an empty database`,
          'internal',
        );
      }
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO sentinel_schema (version, name) VALUES ($1, $2)', [m.version, m.name]);
      log?.info({ version: m.version, migration: m.name }, 'applied Postgres migration');
    }
    await client.query('COMMIT');
    return Math.max(current, latest);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof SentinelError) throw err;
    throw new SentinelError(`Postgres migration of ${describe(url)} failed: ${(err as Error).message}; nothing was applied`, 'internal');
  } finally {
    await client.end();
  }
}
