import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../core/db/database';
import { m0001 } from '../../../core/db/migrations/0001_init';
import { m0002 } from '../../../core/db/migrations/0002_cameras';
import { m0003 } from './0003_recordings';

describe('migration 0003 recordings', () => {
  it('drops a camera’s segments with it but keeps its clips (evidence)', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    expect(migrate(db, [m0001, m0002, m0003])).toBe(3);
    db.prepare(
      "INSERT INTO cameras (id, name, url, mount, created_at, updated_at) VALUES ('c', 'C', 'rtsp://h/x', '{}', 'now', 'now')",
    ).run();
    db.prepare("INSERT INTO segments (camera_id, path, start_ms, end_ms, bytes, session) VALUES ('c', '/r/1.mp4', 0, 10000, 5, 1)").run();
    db.prepare(
      "INSERT INTO clips (id, camera_id, path, start_ms, end_ms, duration_s, bytes, sha256, created_at) VALUES ('k', 'c', '/c/k.mp4', 0, 1, 1, 1, 'x', 'now')",
    ).run();
    expect(() =>
      db.prepare("INSERT INTO segments (camera_id, path, start_ms, end_ms, bytes, session) VALUES ('nope', '/r/2.mp4', 0, 1, 1, 1)").run(),
    ).toThrow(/FOREIGN KEY/);
    db.prepare("DELETE FROM cameras WHERE id = 'c'").run();
    expect((db.prepare('SELECT count(*) AS n FROM segments').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM clips').get() as { n: number }).n).toBe(1);
  });
});
