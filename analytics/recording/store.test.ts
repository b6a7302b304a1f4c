import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../core/db/database';
import { MIGRATIONS } from '../../core/db/migrations';
import { SegmentStore } from './store';

function setup() {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS);
  db.prepare(
    "INSERT INTO cameras (id, name, url, mount, created_at, updated_at) VALUES ('a', 'A', 'rtsp://h/a', '{}', 'now', 'now'), ('b', 'B', 'rtsp://h/b', '{}', 'now', 'now')",
  ).run();
  const dir = mkdtempSync(join(tmpdir(), 'seg-'));
  const store = new SegmentStore(db, pino({ level: 'silent' }));
  const add = (cameraId: string, startMs: number, bytes: number): string => {
    const path = join(dir, `${cameraId}-${startMs}.mp4`);
    writeFileSync(path, Buffer.alloc(bytes));
    store.add({ cameraId, path, startMs, endMs: startMs + 10_000, bytes, session: 1 });
    return path;
  };
  return { store, add };
}

describe('SegmentStore retention', () => {
  it('deletes segments older than the age limit, files and rows', () => {
    const { store, add } = setup();
    const now = 1_000_000;
    const old = add('a', now - 100_000, 10);
    const fresh = add('a', now - 20_000, 10);
    const r = store.sweep({ maxAgeMs: 50_000, maxBytes: 1e9 }, now);
    expect(r.removed).toBe(1);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(store.list('a').map((s) => s.path)).toEqual([fresh]);
  });

  it('keeps the disk budget by deleting the oldest first, across cameras', () => {
    const { store, add } = setup();
    const p1 = add('a', 1000, 100);
    const p2 = add('b', 2000, 100);
    const p3 = add('a', 3000, 100);
    const r = store.sweep({ maxAgeMs: 1e12, maxBytes: 150 }, 5000);
    expect(r).toEqual({ removed: 2, freedBytes: 200, keptHeld: 0 });
    expect([existsSync(p1), existsSync(p2), existsSync(p3)]).toEqual([false, false, true]);
    expect(store.totalBytes()).toBe(100);
    expect(store.overlapping('a', 0, 20_000).map((s) => s.path)).toEqual([p3]);
  });

  it('never deletes a held segment, by age or by budget, and says how far back each camera goes', () => {
    const { store, add } = setup();
    const p1 = add('a', 1000, 100);
    const p2 = add('a', 11_000, 100);
    const p3 = add('b', 1000, 100);
    const held = [{ cameraId: 'a', fromMs: 12_000, toMs: 13_000 }];
    const r = store.sweep({ maxAgeMs: 0, maxBytes: 0 }, 100_000, held);
    expect(r).toEqual({ removed: 2, freedBytes: 200, keptHeld: 1 });
    expect([existsSync(p1), existsSync(p2), existsSync(p3)]).toEqual([false, true, false]);
    expect(store.oldestStartMs('a')).toBe(11_000);
    expect(store.oldestStartMs('b')).toBeNull();
  });
});
