import type { Database } from 'better-sqlite3';
import type { Config } from '../../core/config';
import type { CoreHandle } from '../../core/app';
import { createRunDatabase } from './dialects';

/**
 * The SQLite handle of a core, for a test that reads its tables directly (counts, raw rows).
 * Such a test runs on SQLite only; on Postgres it says so rather than failing on a null.
 */
export function sqliteOf(core: Pick<CoreHandle, 'db'>): Database {
  if (!core.db) throw new Error("this test reads the core's SQLite tables directly and cannot run on Postgres");
  return core.db;
}

/**
 * `SENTINEL_TEST_DATABASE=postgres` (the integration-postgres project in vitest.config.ts) runs
 * the same integration tests with the core on Postgres: each core gets a fresh database in the
 * run's private server (test/support/postgres-global.ts).
 */
export const ON_POSTGRES = process.env.SENTINEL_TEST_DATABASE === 'postgres';

/** A fresh empty database's URL when the run is on Postgres, else undefined (the data directory's SQLite file). */
export async function testDatabaseUrl(): Promise<string | undefined> {
  if (!ON_POSTGRES) return undefined;
  return createRunDatabase('core');
}

/** The config on the run's database: unchanged on SQLite, a fresh Postgres database on Postgres. */
export async function onTestDatabase<C extends Pick<Config, 'database'>>(cfg: C): Promise<C> {
  const url = await testDatabaseUrl();
  return url ? { ...cfg, database: { ...cfg.database, url } } : cfg;
}
