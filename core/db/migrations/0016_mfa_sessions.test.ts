import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0016 mfa and sessions', () => {
  it('gives existing sessions a public id, keeps them, and checks the new tables', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version < 16),
    );
    db.prepare(
      "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES ('u1', 'ann', 'Ann', 'admin', 'x', 'now', 'now')",
    ).run();
    const session = db.prepare(
      "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?, 'u1', 1, 2, 1)",
    );
    session.run('h1');
    session.run('h2');
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 16),
      ),
    ).toBe(16);
    const rows = db.prepare('SELECT token_hash, id, method FROM sessions ORDER BY token_hash').all() as { id: string; method: string }[];
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => /^[0-9a-f]{32}$/.test(r.id) && r.method === 'password')).toBe(true);
    expect(rows[0]!.id).not.toBe(rows[1]!.id);
    expect(() => db.prepare("UPDATE sessions SET id = ? WHERE token_hash = 'h2'").run(rows[0]!.id)).toThrow(/UNIQUE/);
    expect(() =>
      db
        .prepare(
          "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, id, method) VALUES ('h3', 'u1', 1, 2, 1, 'i3', 'magic')",
        )
        .run(),
    ).toThrow(/CHECK constraint/);
    db.prepare("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ('u1', 'scrypt$...', 'now')").run();
    expect(() => db.prepare("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ('nobody', 'h', 'now')").run()).toThrow(
      /FOREIGN KEY/,
    );
    expect(() =>
      db.prepare("INSERT INTO user_notices (user_id, kind, message, created_at) VALUES ('u1', 'birthday', 'hi', 'now')").run(),
    ).toThrow(/CHECK constraint/);
    db.prepare("INSERT INTO user_notices (user_id, kind, message, created_at) VALUES ('u1', 'mfa_reset', 'reset', 'now')").run();
    // A user's codes, notices and sessions go with the user.
    db.prepare("DELETE FROM users WHERE id = 'u1'").run();
    for (const t of ['recovery_codes', 'user_notices', 'sessions'])
      expect(db.prepare(`SELECT count(*) AS n FROM ${t}`).get(), t).toEqual({ n: 0 });
  });
});
