import { sql } from 'kysely';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { SegmentStore } from './segments';

/** Inserts the cameras the segments belong to (segments go with their camera: a foreign key). */
async function addCameras(db: SqlDb, ...ids: string[]): Promise<void> {
  for (const id of ids)
    await sql`INSERT INTO cameras (id, name, url, mount, created_at, updated_at) VALUES (${id}, ${id.toUpperCase()}, ${`rtsp://h/${id}`}, '{}', 'now', 'now')`.execute(
      db.as(),
    );
}

describeOnBothDatabases('SegmentStore', (open) => {
  async function setup() {
    const db = await open();
    await addCameras(db, 'a', 'b');
    const dir = mkdtempSync(join(tmpdir(), 'seg-'));
    const store = new SegmentStore(db, pino({ level: 'silent' }));
    const add = async (cameraId: string, startMs: number, bytes: number, session = 1): Promise<string> => {
      const path = join(dir, `${cameraId}-${startMs}.mp4`);
      writeFileSync(path, Buffer.alloc(bytes));
      await store.add({ cameraId, path, startMs, endMs: startMs + 10_000, bytes, session });
      return path;
    };
    return { db, store, add, dir };
  }

  it('indexes segments: overlapping spans oldest first, per camera; a file reported again replaces its row', async () => {
    const { store, add } = await setup();
    const p1 = await add('a', 20_000, 5);
    const p0 = await add('a', 0, 5);
    await add('b', 0, 5);
    expect((await store.overlapping('a', 5000, 25_000)).map((s) => s.path)).toEqual([p0, p1]);
    expect((await store.overlapping('a', 10_000, 20_000)).map((s) => s.path)).toEqual([]);
    const [row] = await store.overlapping('a', 29_999, 40_000);
    expect(row).toEqual({ id: expect.any(Number), cameraId: 'a', path: p1, startMs: 20_000, endMs: 30_000, bytes: 5, session: 1 });
    await store.add({ cameraId: 'a', path: p1, startMs: 21_000, endMs: 31_000, bytes: 7, session: 2 });
    expect((await store.list('a')).map((s) => [s.path, s.startMs, s.bytes, s.session])).toEqual([
      [p0, 0, 5, 1],
      [p1, 21_000, 7, 2],
    ]);
    expect(await store.totalBytes()).toBe(17);
  });

  it('refuses a segment of an unknown camera (the camera was deleted while it was written)', async () => {
    const { store } = await setup();
    await expect(store.add({ cameraId: 'gone', path: '/x.mp4', startMs: 0, endMs: 1, bytes: 1, session: 1 })).rejects.toThrow();
  });

  it('says how far back each camera goes, and reads large byte counts and times as numbers', async () => {
    const { store } = await setup();
    expect(await store.totalBytes()).toBe(0);
    expect(await store.oldestStartMs('a')).toBeNull();
    const t = 1_790_000_000_000;
    await store.add({ cameraId: 'a', path: '/a1.mp4', startMs: t, endMs: t + 1, bytes: 3_000_000_000, session: 1 });
    await store.add({ cameraId: 'a', path: '/a0.mp4', startMs: t - 5, endMs: t, bytes: 3_000_000_000, session: 1 });
    await store.add({ cameraId: 'b', path: '/b0.mp4', startMs: t + 7, endMs: t + 8, bytes: 1, session: 1 });
    expect(await store.oldestStartMs('a')).toBe(t - 5);
    expect(await store.oldestStartByCamera()).toEqual(
      new Map([
        ['a', t - 5],
        ['b', t + 7],
      ]),
    );
    expect(await store.totalBytes()).toBe(6_000_000_001);
  });

  it('deletes segments older than the age limit, files and rows', async () => {
    const { store, add } = await setup();
    const now = 1_000_000;
    const old = await add('a', now - 100_000, 10);
    const fresh = await add('a', now - 20_000, 10);
    const r = await store.sweep({ maxAgeMs: 50_000, maxBytes: 1e9 }, now);
    expect(r.removed).toBe(1);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect((await store.list('a')).map((s) => s.path)).toEqual([fresh]);
  });

  it('keeps the disk budget by deleting the oldest first, across cameras', async () => {
    const { store, add } = await setup();
    const p1 = await add('a', 1000, 100);
    const p2 = await add('b', 2000, 100);
    const p3 = await add('a', 3000, 100);
    const r = await store.sweep({ maxAgeMs: 1e12, maxBytes: 150 }, 5000);
    expect(r).toEqual({ removed: 2, freedBytes: 200, keptHeld: 0 });
    expect([existsSync(p1), existsSync(p2), existsSync(p3)]).toEqual([false, false, true]);
    expect(await store.totalBytes()).toBe(100);
    expect((await store.overlapping('a', 0, 20_000)).map((s) => s.path)).toEqual([p3]);
  });

  it('walks the budget pass page by page when there are more segments than one page', async () => {
    const { store, add } = await setup();
    const paths: string[] = [];
    // 1200 segments (more than a page), 1 byte each, two of them sharing a start time.
    for (let i = 0; i < 1200; i++) paths.push(await add(i % 2 ? 'a' : 'b', i === 1 ? 0 : i * 10, 1));
    const r = await store.sweep({ maxAgeMs: 1e12, maxBytes: 50 }, 0);
    expect(r).toEqual({ removed: 1150, freedBytes: 1150, keptHeld: 0 });
    expect(await store.totalBytes()).toBe(50);
    expect(existsSync(paths[1149]!)).toBe(false);
    expect(existsSync(paths[1150]!)).toBe(true);
  });

  it('never deletes a held segment, by age or by budget, and says how far back each camera goes', async () => {
    const { store, add } = await setup();
    const p1 = await add('a', 1000, 100);
    const p2 = await add('a', 11_000, 100);
    const p3 = await add('b', 1000, 100);
    const held = [{ cameraId: 'a', fromMs: 12_000, toMs: 13_000 }];
    const r = await store.sweep({ maxAgeMs: 0, maxBytes: 0 }, 100_000, held);
    expect(r).toEqual({ removed: 2, freedBytes: 200, keptHeld: 1 });
    expect([existsSync(p1), existsSync(p2), existsSync(p3)]).toEqual([false, true, false]);
    expect(await store.oldestStartMs('a')).toBe(11_000);
    expect(await store.oldestStartMs('b')).toBeNull();
  });

  it('keeps a held segment over the budget and still frees the unheld ones after it', async () => {
    const { store, add } = await setup();
    const p1 = await add('a', 1000, 100);
    const p2 = await add('a', 2000, 100);
    const held = [{ cameraId: 'a', fromMs: 1500, toMs: 1600 }];
    const r = await store.sweep({ maxAgeMs: 1e12, maxBytes: 50 }, 0, held);
    expect(r).toEqual({ removed: 1, freedBytes: 100, keptHeld: 0 });
    expect([existsSync(p1), existsSync(p2)]).toEqual([true, false]);
    expect(await store.totalBytes()).toBe(100);
  });
});
