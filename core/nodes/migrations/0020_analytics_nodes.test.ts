import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../db/database';
import { MIGRATIONS } from '../../db/migrations';

describe('migration 0020 analytics_nodes', () => {
  it('adds the nodes table on top of 0019: unique names and token hashes, capacity at least 1', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 19),
    );
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 20),
      ),
    ).toBe(20);
    const ins = db.prepare(
      "INSERT INTO analytics_nodes (id, name, token_hash, capacity, created_at, created_by) VALUES (?, ?, ?, ?, 'now', 'cli')",
    );
    ins.run('n1', 'node-1', 'h1', 8);
    expect(() => ins.run('n2', 'node-1', 'h2', 8)).toThrow(/UNIQUE/);
    expect(() => ins.run('n3', 'node-3', 'h1', 8)).toThrow(/UNIQUE/);
    expect(() => ins.run('n4', 'node-4', 'h4', 0)).toThrow(/CHECK/);
    expect(db.prepare('SELECT id, revoked_at FROM analytics_nodes').all()).toEqual([{ id: 'n1', revoked_at: null }]);
  });
});
