import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0005 analytics', () => {
  it('keeps zones unique per camera and drops zones and occupancy with their camera', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 5),
    );
    db.prepare(
      "INSERT INTO cameras (id, name, url, mount, created_at, updated_at) VALUES ('c', 'C', 'rtsp://h/x', '{}', 'now', 'now')",
    ).run();
    const zone = db.prepare("INSERT INTO zones (camera_id, id, position, doc, updated_at) VALUES (?, ?, 0, '{}', 'now')");
    zone.run('c', 'platform');
    expect(() => zone.run('c', 'platform')).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => zone.run('nope', 'x')).toThrow(/FOREIGN KEY/);
    const occ = db.prepare("INSERT INTO occupancy (camera_id, zone_id, t_ms, count) VALUES ('c', 'platform', ?, ?)");
    occ.run(1, 3);
    expect(() => occ.run(2, -1)).toThrow(/CHECK constraint/);
    db.prepare("DELETE FROM cameras WHERE id = 'c'").run();
    expect((db.prepare('SELECT count(*) AS n FROM zones').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM occupancy').get() as { n: number }).n).toBe(0);
  });
});
