import { join } from 'node:path';
import pg from 'pg';
import type { Config } from '../config';
import { SentinelError } from '../errors';
import type { Logger } from '../logger';
import { openDatabase } from './database';
import { describePostgresUrl } from './postgres/describe';
import { openPostgresSql, sqliteSql, type SqlDb } from './sql';

export interface OpenDataOptions {
  log?: Logger;
  /**
   * May an empty Postgres database become Sentinel's (the core, `users create-admin --init`)?
   * Every other command refuses one, as it refuses a data directory that is not Sentinel's: a
   * mistyped URL is named, never given Sentinel's tables. (SQLite: the data directory checks.)
   */
  create?: boolean;
}

/**
 * The installation's database, for the core and for every command that reads its data: the
 * Postgres database named by `database.url` / SENTINEL_DATABASE_URL when one is configured
 * (migrated first), else the SQLite file in the data directory. One place decides, so a
 * command can never read the SQLite file while the core writes Postgres.
 */
export async function openData(config: Pick<Config, 'dataDir' | 'database'>, opts: OpenDataOptions = {}): Promise<SqlDb> {
  const url = config.database.url;
  if (!url) return sqliteSql(openDatabase(join(config.dataDir, 'sentinel.db'), opts.log));
  if (!opts.create && !(await holdsSentinel(url)))
    throw new SentinelError(
      `Postgres database ${describePostgresUrl(url)} holds no Sentinel data (no sentinel_schema table): check SENTINEL_DATABASE_URL / database.url, or start a new installation with sentinel users create-admin --init`,
    );
  return openPostgresSql(url, opts.log);
}

/** Whether the database has Sentinel's schema table. An unreachable server is left to the open, which names it. */
async function holdsSentinel(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch {
    return true;
  }
  try {
    const r = await client.query<{ t: string | null }>("SELECT to_regclass('sentinel_schema')::text AS t");
    return r.rows[0]?.t != null;
  } finally {
    await client.end();
  }
}
