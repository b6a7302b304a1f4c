import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0006 users, sessions, audit', () => {
  it('keeps user names unique regardless of case, checks roles, cascades sessions, and makes audit append-only', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 6),
    );
    const ins = db.prepare(
      "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES (?, ?, 'x', ?, 'h', 'now', 'now')",
    );
    ins.run('u1', 'Ada', 'admin');
    expect(() => ins.run('u2', 'ada', 'operator')).toThrow(/UNIQUE/);
    expect(() => ins.run('u3', 'bob', 'superuser')).toThrow(/CHECK constraint/);
    db.prepare("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES ('t', 'u1', 0, 1, 0)").run();
    db.prepare("DELETE FROM users WHERE id = 'u1'").run();
    expect(db.prepare('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 0 });
    db.prepare("INSERT INTO audit (seq, at, action, prev_hash, hash) VALUES (1, 'now', 'x', 'p', 'h')").run();
    expect(() => db.prepare("UPDATE audit SET action = 'y'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
  });
});
