import BetterSqlite3, { type Database } from 'better-sqlite3';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { SentinelError } from '../errors';
import type { Logger } from '../logger';
import { MIGRATIONS, type Migration } from './migrations';

export type { Database };

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Refuses a file that is not a SQLite database before better-sqlite3 touches it: SQLite
 * would otherwise report "file is not a database" only on the first query, and a naive
 * caller might delete and recreate it. A corrupt database is reported, never replaced.
 */
function assertSqliteFile(file: string): void {
  if (!existsSync(file)) return;
  const size = statSync(file).size;
  if (size === 0) return; // SQLite treats an empty file as a new database.
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    if (header.toString('latin1') !== SQLITE_MAGIC) {
      throw new SentinelError(
        `database ${file} is not a SQLite database (corrupt or overwritten); it was left untouched: restore it from a backup or move it away`,
        'internal',
      );
    }
  } finally {
    closeSync(fd);
  }
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration above the database's `user_version`, each in its own transaction. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS, log?: Logger): number {
  const current = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new SentinelError(
      `database schema version ${current} is newer than this Sentinel (${latest}); upgrade Sentinel instead of opening it with an older one`,
      'internal',
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    log?.info({ version: m.version, migration: m.name }, 'applied migration');
  }
  return schemaVersion(db);
}

/** Opens (creating if needed) the database in WAL mode and brings its schema up to date. */
export function openDatabase(file: string, log?: Logger): Database {
  assertSqliteFile(file);
  let db: Database;
  try {
    db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
  } catch (err) {
    if (err instanceof SentinelError) throw err;
    throw new SentinelError(`database ${file} cannot be opened: ${(err as Error).message}; it was left untouched`, 'internal');
  }
  migrate(db, MIGRATIONS, log);
  return db;
}
