import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0007 incidents and acknowledgements', () => {
  it('checks incident states, files an alert into one incident only, and one ack per user and alert', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 7),
    );
    const inc = db.prepare(
      "INSERT INTO incidents (id, title, kind, state, camera_id, camera_name, scope, created_at, updated_at, last_alert_at) VALUES (?, 't', 'fight', ?, 'c', 'C', '{}', 'now', 'now', 'now')",
    );
    inc.run('i1', 'new');
    inc.run('i2', 'new');
    expect(() => inc.run('i3', 'closed')).toThrow(/CHECK constraint/);
    db.prepare("INSERT INTO incident_alerts (incident_id, alert_id) VALUES ('i1', 'a1')").run();
    expect(() => db.prepare("INSERT INTO incident_alerts (incident_id, alert_id) VALUES ('i2', 'a1')").run()).toThrow(/UNIQUE/);
    expect(() => db.prepare("INSERT INTO incident_alerts (incident_id, alert_id) VALUES ('nope', 'a2')").run()).toThrow(/FOREIGN KEY/);
    const ack = db.prepare(
      "INSERT OR IGNORE INTO alert_acks (alert_id, user_id, username, role, at) VALUES ('a1', 'u1', 'lee', 'liaison', 'now')",
    );
    expect(ack.run().changes).toBe(1);
    expect(ack.run().changes).toBe(0);
  });
});
