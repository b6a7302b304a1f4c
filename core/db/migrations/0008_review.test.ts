import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0008 review', () => {
  it('keys detections by camera and time, keeps one verdict per incident, checks values', () => {
    const db = new BetterSqlite3(':memory:');
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 8),
      ),
    ).toBe(8);
    const det = db.prepare('INSERT INTO detections (camera_id, t_ms, tracks) VALUES (?, ?, ?)');
    det.run('c', 1000, '[]');
    expect(() => det.run('c', 1000, '[]')).toThrow(/UNIQUE|PRIMARY KEY/);
    det.run('d', 1000, '[]');
    const v = db.prepare("INSERT INTO verdicts (incident_id, verdict, reason, by_user, at) VALUES (?, ?, '', 'r', 'now')");
    v.run('i1', 'true-alarm');
    expect(() => v.run('i2', 'maybe')).toThrow(/CHECK constraint/);
    expect(() => v.run('i1', 'false-alarm')).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() =>
      db
        .prepare("INSERT INTO evidence_exports (id, incident_id, state, created_by, created_at) VALUES ('e', 'i1', 'half', 'r', 'now')")
        .run(),
    ).toThrow(/CHECK constraint/);
  });
});
