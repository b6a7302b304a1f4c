import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0017 analytics models', () => {
  it('keeps box-wide slots and per-camera choices, which go with their camera', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 17),
      ),
    ).toBe(17);
    const slot = db.prepare("INSERT INTO analytics_models (slot, model, updated_at) VALUES (?, ?, 'now')");
    slot.run('detector', 'light-person');
    slot.run('fight', 'builtin');
    expect(() => slot.run('tracker', 'x')).toThrow(/CHECK constraint/);
    expect(() => slot.run('detector', 'again')).toThrow(/UNIQUE|PRIMARY KEY/);
    db.prepare(
      "INSERT INTO cameras (id, name, url, mount, created_at, updated_at) VALUES ('c1', 'C1', 'rtsp://h/s', '{}', 'now', 'now')",
    ).run();
    const cam = db.prepare("INSERT INTO camera_models (camera_id, model, updated_at) VALUES (?, ?, 'now')");
    cam.run('c1', 'light-person');
    expect(() => cam.run('nope', 'light-person')).toThrow(/FOREIGN KEY/);
    expect(() => cam.run('c1', '')).toThrow(/CHECK constraint|UNIQUE|PRIMARY KEY/);
    db.prepare("DELETE FROM cameras WHERE id = 'c1'").run();
    expect(db.prepare('SELECT count(*) AS n FROM camera_models').get()).toEqual({ n: 0 });
  });
});
