import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0013 leases', () => {
  it('adds the leases table on top of 0012, one row per name', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 12),
    );
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 13),
      ),
    ).toBe(13);
    const ins = db.prepare("INSERT INTO leases (name, holder, expires_at_ms, acquired_at, renewed_at) VALUES (?, ?, ?, 'now', 'now')");
    ins.run('escalation', 'replica-a', 1000);
    expect(() => ins.run('escalation', 'replica-b', 2000)).toThrow(/UNIQUE/);
    expect(() =>
      db
        .prepare("INSERT INTO leases (name, holder, expires_at_ms, fence, acquired_at, renewed_at) VALUES ('x', 'h', 1, 0, 'now', 'now')")
        .run(),
    ).toThrow(/CHECK/);
    expect(db.prepare('SELECT name, holder, fence, info FROM leases').all()).toEqual([
      { name: 'escalation', holder: 'replica-a', fence: 1, info: '{}' },
    ]);
  });
});
