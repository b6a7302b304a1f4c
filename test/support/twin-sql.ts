import type { SqlDb, SqlDialect } from '../../core/db/sql';
import { openReplicas } from './replicas';

/**
 * Two `SqlDb`s on one fresh, migrated database, as two replicas have: two better-sqlite3
 * handles on one SQLite file (WAL), or two pools on one Postgres database of the run's server.
 * For tests of what must hold between replicas (a lease, a shared budget); `close()` closes both.
 */
export async function openTwinSql(dialect: SqlDialect): Promise<{ a: SqlDb; b: SqlDb; close(): Promise<void> }> {
  const { dbs, close } = await openReplicas(dialect, 2);
  return { a: dbs[0]!, b: dbs[1]!, close };
}
