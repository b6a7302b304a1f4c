import { sql, type RawBuilder } from 'kysely';
import { openData } from '../../core/db/open';
import type { SqlDb } from '../../core/db/sql';
import type { RunningServe } from './serve';

/**
 * A test's own reads of a core's tables, on whichever database the core runs: SQL written with
 * Kysely's `sql` tag (values become parameters on both dialects), run through the core's SqlDb.
 * `count(*)` comes back as a number on both (the pool parses BIGINT), so a test can compare
 * `{ n: 1 }` on either.
 */
export async function rows<R>(db: SqlDb, query: RawBuilder<R>): Promise<R[]> {
  return (await query.execute(db.as())).rows;
}

/** The first row, or undefined when there is none. */
export async function one<R>(db: SqlDb, query: RawBuilder<R>): Promise<R | undefined> {
  return (await rows(db, query))[0];
}

/** The single number a `SELECT count(*) AS n ...` (or max, sum) gives; 0 for no row or NULL. */
export async function num(db: SqlDb, query: RawBuilder<{ n: number | string | null }>): Promise<number> {
  const r = await one(db, query);
  return r?.n == null ? 0 : Number(r.n);
}

/**
 * A second connection to the database of a `sentinel serve` child (its Postgres database, or
 * the SQLite file in its data directory), for a test that checks what the process stored.
 * Close it before the data directory is removed.
 */
export function serveSql(serve: Pick<RunningServe, 'dataDir' | 'databaseUrl'>): Promise<SqlDb> {
  return openData({ dataDir: serve.dataDir, database: { url: serve.databaseUrl } });
}

/**
 * Every value of every row of every table, as bytes (text as UTF-8, BLOBs as stored), for a
 * test that proves a secret is stored nowhere in clear: `expect(dump.includes(secret))`.
 * The table list is the one dialect-specific read: SQLite's catalogue or Postgres's.
 */
export async function everyStoredValue(db: SqlDb): Promise<Buffer> {
  const tables =
    db.dialect === 'sqlite'
      ? await rows(db, sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`)
      : await rows(
          db,
          sql<{
            name: string;
          }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
        );
  const parts: Buffer[] = [];
  for (const { name } of tables) {
    for (const row of await rows(db, sql<Record<string, unknown>>`SELECT * FROM ${sql.table(name)}`)) {
      for (const v of Object.values(row)) {
        if (v == null) continue;
        parts.push(Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'object' ? JSON.stringify(v) : String(v), 'utf8'), Buffer.from([0]));
      }
    }
  }
  return Buffer.concat(parts);
}

/** The names of the database's own tables, sorted (SQLite's internal tables left out). */
export async function tableNames(db: SqlDb): Promise<string[]> {
  const q =
    db.dialect === 'postgres'
      ? sql<{
          name: string;
        }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
      : sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`;
  return (await rows(db, q)).map((r) => r.name).sort();
}
