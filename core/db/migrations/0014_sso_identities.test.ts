import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0014 sso identities', () => {
  it('links one provider identity to one user, and goes with the user', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 14),
      ),
    ).toBe(14);
    db.prepare(
      "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES ('u1', 'ann', 'Ann', 'operator', 'x', 'now', 'now')",
    ).run();
    const link = db.prepare("INSERT INTO sso_identities VALUES (?, ?, ?, 'now', 'now')");
    link.run('https://idp', 'sub-1', 'u1');
    expect(() => link.run('https://idp', 'sub-1', 'u1')).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => link.run('https://idp', 'sub-2', 'u1')).toThrow(/UNIQUE/);
    expect(() => link.run('https://idp', 'sub-3', 'nobody')).toThrow(/FOREIGN KEY/);
    db.prepare("DELETE FROM users WHERE id = 'u1'").run();
    expect(db.prepare('SELECT COUNT(*) AS n FROM sso_identities').get()).toEqual({ n: 0 });
  });
});
