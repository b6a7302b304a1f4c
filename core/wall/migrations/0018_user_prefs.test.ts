import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../db/database';
import { MIGRATIONS } from '../../db/migrations';

describe('migration 0018 user prefs', () => {
  it('keeps one JSON document per user and key, and drops them with the user', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 18),
      ),
    ).toBe(18);
    db.prepare(
      "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES ('u1', 'ann', 'Ann', 'operator', 'x', 'now', 'now')",
    ).run();
    const put = db.prepare("INSERT INTO user_prefs (user_id, key, value, updated_at) VALUES (?, ?, ?, 'now')");
    put.run('u1', 'wall', '{"layout":4}');
    expect(() => put.run('u1', 'wall', '{"layout":9}')).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => put.run('u1', 'other', 'not json')).toThrow(/CHECK constraint/);
    expect(() => put.run('u1', '', '{}')).toThrow(/CHECK constraint/);
    expect(() => put.run('nobody', 'wall', '{}')).toThrow(/FOREIGN KEY/);
    db.prepare("DELETE FROM users WHERE id = 'u1'").run();
    expect(db.prepare('SELECT count(*) AS n FROM user_prefs').get()).toEqual({ n: 0 });
  });
});
