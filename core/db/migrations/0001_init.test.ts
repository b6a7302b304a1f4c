import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../database';
import { m0001 } from './0001_init';

describe('migration 0001 init', () => {
  it('creates the installation row and the settings table', () => {
    const db = new BetterSqlite3(':memory:');
    expect(migrate(db, [m0001])).toBe(1);
    const rows = db.prepare('SELECT id, created_at FROM installation').all() as Array<{ id: string; created_at: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(rows[0]?.created_at ?? ''))).toBe(false);
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', 'now')").run();
    // STRICT tables refuse a value of the wrong type instead of storing it silently.
    expect(() => db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('k2', x'00', 'now')").run()).toThrow();
  });

  it('is applied once: migrating again changes nothing', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(db, [m0001]);
    migrate(db, [m0001]);
    expect(schemaVersion(db)).toBe(1);
    expect((db.prepare('SELECT count(*) AS n FROM installation').get() as { n: number }).n).toBe(1);
  });
});
