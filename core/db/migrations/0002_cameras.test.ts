import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { m0001 } from './0001_init';
import { m0002 } from './0002_cameras';

describe('migration 0002 cameras', () => {
  it('creates the cameras table with unique names and boolean checks', () => {
    const db = new BetterSqlite3(':memory:');
    expect(migrate(db, [m0001, m0002])).toBe(2);
    const ins = db.prepare(
      "INSERT INTO cameras (id, name, url, mount, analytics_enabled, created_at, updated_at) VALUES (?, ?, 'rtsp://h/x', '{}', ?, 'now', 'now')",
    );
    ins.run('a', 'Platform 1', 1);
    expect(() => ins.run('b', 'Platform 1', 1)).toThrow(/UNIQUE/);
    expect(() => ins.run('c', 'Platform 2', 2)).toThrow(/CHECK/);
    const row = db.prepare('SELECT recording_enabled, demo, credentials FROM cameras WHERE id = ?').get('a');
    expect(row).toEqual({ recording_enabled: 1, demo: 0, credentials: null });
  });
});
