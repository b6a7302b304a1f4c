import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../core/db/database';
import { MIGRATIONS } from '../../../core/db/migrations';

describe('migration 0010 evidence', () => {
  it('keeps one clip link per alert with a consistent state, and holds that record their lifting', () => {
    const db = new BetterSqlite3(':memory:');
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 10),
      ),
    ).toBe(10);
    const link = db.prepare(
      "INSERT INTO alert_clips (alert_id, camera_id, from_ms, to_ms, state, clip_id, sha256, error, created_at, updated_at) VALUES (?, 'c', 1, 2, ?, ?, ?, ?, 'now', 'now')",
    );
    link.run('a1', 'pending', null, null, null);
    expect(() => link.run('a1', 'pending', null, null, null)).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => link.run('a2', 'ready', null, null, null)).toThrow(/CHECK constraint/);
    expect(() => link.run('a3', 'failed', null, null, null)).toThrow(/CHECK constraint/);
    link.run('a4', 'failed', null, null, 'No space left on device');
    const hold = db.prepare(
      "INSERT INTO evidence_holds (camera_id, from_ms, to_ms, kind, ref, reason, created_at) VALUES ('c', ?, ?, ?, ?, 'r', 'now')",
    );
    hold.run(1000, 2000, 'alert', 'a1');
    expect(() => hold.run(1000, 2000, 'alert', 'a1')).toThrow(/UNIQUE/);
    hold.run(1000, 2000, 'manual', 'x');
    hold.run(1000, 2000, 'manual', 'x');
    expect(() => hold.run(2000, 1000, 'manual', 'y')).toThrow(/CHECK constraint/);
    expect(() => db.prepare("UPDATE evidence_holds SET lifted_at = 'now' WHERE ref = 'a1'").run()).toThrow(/CHECK constraint/);
    db.prepare("UPDATE evidence_holds SET lifted_at = 'now', lifted_by = 'system', lift_reason = 'resolved' WHERE ref = 'a1'").run();
  });
});
