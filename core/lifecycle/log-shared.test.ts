import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/database';
import { createLogger } from '../logger';
import { LifecycleLog, type LogEvent } from './log';

const log = createLogger('silent');

// Two replicas' logs: two connections to one SQLite file (WAL), as core replicas on one machine.
describe('lifecycle log shared by replicas', () => {
  const dbs: Database[] = [];
  let dir = '';
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const replicas = (): [Database, Database] => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-log-shared-'));
    const a = openDatabase(join(dir, 'sentinel.db'));
    const b = openDatabase(join(dir, 'sentinel.db'));
    dbs.push(a, b);
    return [a, b];
  };
  const raise = (db: Database, l: LifecycleLog, id: string): void =>
    db.transaction(() => void l.append({ kind: 'alert.raised', alertId: id, rooms: ['alerts:all'], payload: { id } }))();

  it("each replica's readers get the other's events, in order, once; only the writer announces", async () => {
    const [da, db] = replicas();
    const la = new LifecycleLog(da, log);
    const lb = new LifecycleLog(db, log);
    const seenA: number[] = [];
    const seenB: number[] = [];
    la.subscribe('a', (es: readonly LogEvent[]) => seenA.push(...es.map((e) => e.seq)));
    lb.subscribe('b', (es: readonly LogEvent[]) => seenB.push(...es.map((e) => e.seq)));
    const announcedA: number[] = [];
    const announcedB: number[] = [];
    la.setAnnouncer((seq) => announcedA.push(seq));
    lb.setAnnouncer((seq) => announcedB.push(seq));

    raise(da, la, 'x1');
    raise(da, la, 'x2');
    la.flush();
    expect(seenA).toEqual([1, 2]);
    expect(announcedA).toEqual([2]);
    // B hears of it (Redis in the core) and reads the shared table by its cursor.
    lb.flush();
    expect(seenB).toEqual([1, 2]);
    expect(announcedB).toEqual([]); // nothing of B's own to announce
    raise(db, lb, 'y1');
    lb.flush();
    la.flush();
    expect(seenA).toEqual([1, 2, 3]);
    expect(seenB).toEqual([1, 2, 3]);
    expect(announcedB).toEqual([3]);
  });

  it('follow() finds what the other replica committed without being told (its writer died before announcing)', async () => {
    const [da, db] = replicas();
    const la = new LifecycleLog(da, log);
    const lb = new LifecycleLog(db, log);
    const seenB: string[] = [];
    lb.subscribe('b', (es) => seenB.push(...es.map((e) => e.alertId ?? '')));
    const stop = lb.follow(50);
    try {
      raise(da, la, 'orphan');
      const until = Date.now() + 5000;
      while (!seenB.includes('orphan')) {
        if (Date.now() > until) throw new Error('B never read the event');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seenB).toEqual(['orphan']);
    } finally {
      stop();
    }
  });
});
