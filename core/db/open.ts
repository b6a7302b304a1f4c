import { join } from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { openDatabase } from './database';
import { openPostgresSql, sqliteSql, type SqlDb } from './sql';

/**
 * The installation's database, for the core and for every command that reads its data: the
 * Postgres database named by `database.url` / SENTINEL_DATABASE_URL when one is configured
 * (migrated first), else the SQLite file in the data directory. One place decides, so a
 * command can never read the SQLite file while the core writes Postgres.
 */
export async function openData(config: Pick<Config, 'dataDir' | 'database'>, log?: Logger): Promise<SqlDb> {
  if (config.database.url) return openPostgresSql(config.database.url, log);
  return sqliteSql(openDatabase(join(config.dataDir, 'sentinel.db'), log));
}
