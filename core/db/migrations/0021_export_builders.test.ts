import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0021 export builders', () => {
  it('gives exports a builder and a heartbeat, which earlier exports lack, and indexes only those in progress', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 20),
    );
    db.prepare(
      "INSERT INTO evidence_exports (id, incident_id, state, created_by, created_at) VALUES ('e1', 'i1', 'building', 'rev', 'now')",
    ).run();
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 21),
      ),
    ).toBe(21);
    expect(db.prepare("SELECT state, builder, heartbeat_at_ms FROM evidence_exports WHERE id = 'e1'").get()).toEqual({
      state: 'building',
      builder: null,
      heartbeat_at_ms: null,
    });
    db.prepare("UPDATE evidence_exports SET builder = 'core-a', heartbeat_at_ms = ? WHERE id = 'e1'").run(Date.UTC(2026, 11, 2));
    expect(() => db.prepare("UPDATE evidence_exports SET heartbeat_at_ms = 'soon' WHERE id = 'e1'").run()).toThrow(/cannot store TEXT/);
    const plan = db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM evidence_exports WHERE (state = 'building' OR public_state = 'building') AND heartbeat_at_ms < 5",
      )
      .all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('evidence_exports_building');
  });
});
