import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0009 lifecycle log and webhook outbox', () => {
  it('appends events with an increasing sequence, refuses edits and deletes, one outbox row per event', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 8),
    );
    db.prepare(
      `INSERT INTO incidents (id, title, kind, state, camera_id, camera_name, scope, created_at, updated_at, last_alert_at)
       VALUES ('old', 't', 'fight', 'new', 'cam-7', 'C', '{"placement":null,"district":"4","lines":["Red"],"routes":[]}', 'now', 'now', 'now')`,
    ).run();
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 9),
      ),
    ).toBe(9);
    // An incident from before the log gets its reach from its scope and camera.
    const old = db.prepare("SELECT reach FROM incidents WHERE id = 'old'").get() as { reach: string };
    expect(JSON.parse(old.reach)).toEqual({ districts: ['4'], lines: ['Red'], routes: [], cameras: ['cam-7'] });
    const ins = db.prepare(
      "INSERT INTO lifecycle_events (at, kind, alert_id, incident_id, rooms, payload) VALUES ('now', ?, ?, ?, '[]', '{}')",
    );
    const a = Number(ins.run('alert.raised', 'a1', null).lastInsertRowid);
    const b = Number(ins.run('incident.created', 'a1', 'i1').lastInsertRowid);
    expect(b).toBeGreaterThan(a);
    expect(() => ins.run('alert.exploded', 'a1', null)).toThrow(/CHECK constraint/);
    expect(() => ins.run('alert.raised', null, null)).toThrow(/CHECK constraint/);
    expect(() => db.prepare("UPDATE lifecycle_events SET kind = 'alert.cleared' WHERE seq = ?").run(a)).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM lifecycle_events WHERE seq = ?').run(a)).toThrow(/append-only/);
    const out = db.prepare("INSERT INTO webhook_outbox (event_seq, incident_id, idem_key, body, next_at_ms) VALUES (?, 'i1', ?, '{}', 0)");
    out.run(b, `k-${b}`);
    expect(() => out.run(b, 'another-key')).toThrow(/UNIQUE/);
    expect(() => out.run(9999, 'k-9999')).toThrow(/FOREIGN KEY/);
  });
});
