import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../core/db/database';
import { openPostgresSql, sqliteSql, type SqlDb, type SqlDialect } from '../../core/db/sql';
import { createRunDatabase } from './dialects';

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
  const url = await createRunDatabase('r');
  for (let i = 0; i < n; i++) dbs.push(await openPostgresSql(url, undefined, 4));
  return { dbs, close: async () => void (await Promise.all(dbs.map((db) => db.close()))) };
}
