import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase } from '../../core/db/database';
import { openPostgresSql, sqliteSql, type SqlDb, type SqlDialect } from '../../core/db/sql';

let serial = 0;

/**
 * Two `SqlDb`s on one fresh, migrated database, as two replicas have: two better-sqlite3
 * handles on one SQLite file (WAL), or two pools on one Postgres database of the run's server.
 * For tests of what must hold between replicas (a lease, a shared budget); `close()` closes both.
 */
export async function openTwinSql(dialect: SqlDialect): Promise<{ a: SqlDb; b: SqlDb; close(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-twin-'));
    const a = sqliteSql(openDatabase(join(dir, 'sentinel.db')));
    const b = sqliteSql(openDatabase(join(dir, 'sentinel.db')));
    return { a, b, close: async () => (await a.close(), await b.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const admin = inject('postgresAdminUrl');
  if (!admin) throw new Error('the Postgres server of this run is absent (vitest globalSetup test/support/postgres-global.ts)');
  const name = `twin_${process.pid}_${Date.now().toString(36)}_${serial++}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const a = await openPostgresSql(u.toString(), undefined, 4);
  const b = await openPostgresSql(u.toString(), undefined, 4);
  return { a, b, close: async () => (await a.close(), await b.close()) };
}
