import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase } from '../../core/db/database';
import { openPostgresSql, sqliteSql, type SqlDb, type SqlDialect } from '../../core/db/sql';

let serial = 0;

/**
 * `n` independent `SqlDb`s on one fresh database, as `n` replicas would hold them: on Postgres
 * one pool each (separate connections, so separate writers); on SQLite one better-sqlite3
 * handle each on one shared WAL file. For the guarantees that must hold across replicas.
 */
export async function openReplicas(dialect: SqlDialect, n: number): Promise<{ dbs: SqlDb[]; close: () => Promise<void> }> {
  const dbs: SqlDb[] = [];
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-replicas-'));
    for (let i = 0; i < n; i++) dbs.push(sqliteSql(openDatabase(join(dir, 'sentinel.db'))));
    return {
      dbs,
      close: async () => {
        for (const db of dbs) await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const admin = inject('postgresAdminUrl');
  if (!admin) throw new Error('the Postgres server of this run is absent (vitest globalSetup test/support/postgres-global.ts)');
  const name = `r_${process.pid}_${Date.now().toString(36)}_${serial++}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  for (let i = 0; i < n; i++) dbs.push(await openPostgresSql(u.toString(), undefined, 4));
  return { dbs, close: async () => void (await Promise.all(dbs.map((db) => db.close()))) };
}
