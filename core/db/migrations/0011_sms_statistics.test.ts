import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0011 sms and statistics', () => {
  it('keeps numbers only by hash, deletes messages with their conversation, checks values', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 8),
    );
    const alert = db.prepare(
      "INSERT INTO alerts (seq, id, kind, camera_id, camera_name, score, started_at, scope, updated_at) VALUES (?, ?, ?, 'c', 'C', 1, 'now', '{}', 'now')",
    );
    alert.run(41, 'a41', 'fight');
    expect(() => alert.run(42, 'a42', 'rider-report')).toThrow(/CHECK constraint/);
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 11),
      ),
    ).toBe(11);
    // Alerts keep their rows and delivery order, and accept rider reports; other kinds are still refused.
    expect(db.prepare('SELECT seq, kind FROM alerts').all()).toEqual([{ seq: 41, kind: 'fight' }]);
    alert.run(42, 'a42', 'rider-report');
    expect(() => alert.run(43, 'a43', 'graffiti')).toThrow(/CHECK constraint/);
    expect(
      db
        .prepare(
          "INSERT INTO alerts (id, kind, camera_id, camera_name, score, started_at, scope, updated_at) VALUES ('a', 'fight', 'c', 'C', 1, 'now', '{}', 'now') RETURNING seq",
        )
        .get(),
    ).toEqual({ seq: 43 });
    db.prepare("INSERT INTO sms_numbers (number_hash, number_enc, last4) VALUES ('h', x'00', '1234')").run();
    const conv = db.prepare(
      "INSERT INTO sms_conversations (id, number_hash, language, location, created_at, last_message_at) VALUES (?, ?, ?, '{}', 'now', 'now')",
    );
    conv.run('c1', 'h', 'en');
    expect(() => conv.run('c2', 'h', 'fr')).toThrow(/CHECK constraint/);
    expect(() => conv.run('c3', 'nobody', 'en')).toThrow(/FOREIGN KEY/);
    db.prepare("INSERT INTO sms_messages (conversation_id, direction, body, at, status) VALUES ('c1', 'in', 'x', 'now', 'received')").run();
    db.prepare("DELETE FROM sms_conversations WHERE id = 'c1'").run();
    expect(db.prepare('SELECT count(*) AS n FROM sms_messages').get()).toEqual({ n: 0 });
    const pub = db.prepare(
      "INSERT INTO statistics_published (month, csv, html, manifest, signature, published_by, published_at) VALUES (?, '', '', '', '', 'a', 'now')",
    );
    pub.run('2026-11');
    expect(() => pub.run('Nov 2026')).toThrow(/CHECK constraint/);
  });
});
