import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, inject } from 'vitest';
import { openDatabase } from '../../core/db/database';
import { openPostgresSql, sqliteSql, type SqlDb, type SqlDialect } from '../../core/db/sql';
import { POSTGRES_BIN } from './postgres';

let serial = 0;

/** A fresh empty database in the run's private Postgres (test/support/postgres-global.ts); its URL. */
export async function createRunDatabase(prefix: string): Promise<string> {
  const admin = inject('postgresAdminUrl');
  if (!admin) throw new Error('the Postgres server of this run is absent (vitest globalSetup test/support/postgres-global.ts)');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${serial++}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh, migrated, empty database of the dialect (SQLite in a temp dir; Postgres in the run's server). */
export async function openTestSql(dialect: SqlDialect): Promise<SqlDb> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-sql-'));
    const db = sqliteSql(openDatabase(join(dir, 'test.db')));
    return { ...db, close: async () => (await db.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  return openPostgresSql(await createRunDatabase('t'), undefined, 4);
}

/**
 * Runs a block of tests once on SQLite and once on Postgres: the repositories are written once
 * for both, so their tests are too. `open()` gives each test a fresh database and closes it
 * after the block. The Postgres half skips, saying so, only when Postgres is not installed
 * (CI installs it: tools/install-system-deps.sh).
 */
export function describeOnBothDatabases(name: string, body: (open: () => Promise<SqlDb>, dialect: SqlDialect) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const skip = dialect === 'postgres' && !POSTGRES_BIN;
    (skip ? describe.skip : describe)(`${name} [${dialect}]${skip ? ' (skipped: PostgreSQL is not installed)' : ''}`, () => {
      const opened: SqlDb[] = [];
      afterAll(async () => {
        for (const db of opened.splice(0)) await db.close();
      });
      body(async () => {
        const db = await openTestSql(dialect);
        opened.push(db);
        return db;
      }, dialect);
    });
  }
}
