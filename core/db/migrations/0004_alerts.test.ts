import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0004 alerts', () => {
  it('keeps alerts in delivery order, rejects unknown kinds and duplicate ids', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 4),
    );
    const ins = db.prepare(
      "INSERT INTO alerts (id, kind, camera_id, camera_name, score, started_at, scope, updated_at) VALUES (?, ?, 'c', 'C', 0.9, 'now', '{}', 'now')",
    );
    ins.run('a1', 'crowding');
    ins.run('a2', 'fight');
    expect(() => ins.run('a3', 'loitering')).toThrow(/CHECK constraint/);
    expect(() => ins.run('a1', 'barrier')).toThrow(/UNIQUE/);
    const rows = db.prepare('SELECT seq, id FROM alerts ORDER BY seq').all() as { seq: number; id: string }[];
    expect(rows.map((r) => r.id)).toEqual(['a1', 'a2']);
    expect(rows[1]!.seq).toBeGreaterThan(rows[0]!.seq);
  });
});
