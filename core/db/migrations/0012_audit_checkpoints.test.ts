import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0012 audit checkpoints', () => {
  it('adds an append-only checkpoint table beside an existing trail', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 11),
    );
    db.prepare("INSERT INTO audit (seq, at, action, prev_hash, hash) VALUES (1, 'now', 'auth.login', ?, ?)").run(
      '0'.repeat(64),
      'a'.repeat(64),
    );
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 12),
      ),
    ).toBe(12);
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit').get()).toEqual({ n: 1 });
    const put = db.prepare(
      'INSERT INTO audit_checkpoints (id, seq, head_hash, at, prev, key_fingerprint, signature) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    put.run(1, 1, 'a'.repeat(64), 'now', '0'.repeat(64), 'fp', 'sig');
    expect(() => put.run(2, 1, 'short', 'now', '0'.repeat(64), 'fp', 'sig')).toThrow(/CHECK constraint/);
    expect(() => put.run(1, 1, 'a'.repeat(64), 'now', '0'.repeat(64), 'fp', 'sig')).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => db.prepare('UPDATE audit_checkpoints SET seq = 0').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_checkpoints').run()).toThrow(/append-only/);
  });
});
