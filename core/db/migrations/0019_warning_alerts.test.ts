import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AlertKind } from '../../../contract/alerts';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0019 warning alert kinds', () => {
  it('keeps every alert and its seq, accepts the new kinds and still refuses unknown ones', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 18),
    );
    const alert = db.prepare(
      "INSERT INTO alerts (seq, id, kind, camera_id, camera_name, score, started_at, scope, updated_at) VALUES (?, ?, ?, 'c', 'C', 1, 'now', '{}', 'now')",
    );
    alert.run(7, 'a7', 'rider-report');
    alert.run(8, 'a8', 'barrier');
    expect(() => alert.run(9, 'a9', 'intrusion')).toThrow(/CHECK constraint/);
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 19),
      ),
    ).toBe(19);
    expect(db.prepare('SELECT seq, kind FROM alerts ORDER BY seq').all()).toEqual([
      { seq: 7, kind: 'rider-report' },
      { seq: 8, kind: 'barrier' },
    ]);
    // Every kind the contract knows is storable, and the next seq continues after the last one.
    AlertKind.options.forEach((kind, i) => alert.run(20 + i, `k${i}`, kind));
    expect(() => alert.run(99, 'x', 'graffiti')).toThrow(/CHECK constraint/);
    expect(
      db
        .prepare(
          "INSERT INTO alerts (id, kind, camera_id, camera_name, score, started_at, scope, updated_at) VALUES ('n', 'person-down', 'c', 'C', 1, 'now', '{}', 'now') RETURNING seq",
        )
        .get(),
    ).toEqual({ seq: 20 + AlertKind.options.length });
    const indexes = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts' AND sql IS NOT NULL").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    expect(indexes.sort()).toEqual(['alerts_camera_time', 'alerts_started']);
  });
});
