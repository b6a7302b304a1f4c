import { afterEach, expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { openReplicas } from '../../test/support/replicas';
import type { SqlDb } from '../db/sql';
import { createLogger } from '../logger';
import { LifecycleLog, type LogEvent } from './log';

const log = createLogger('silent');

// Two replicas' logs: two SqlDbs on one database (two pools on Postgres, two handles on one SQLite WAL file).
describeOnBothDatabases('lifecycle log shared by replicas', (_open, dialect) => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  const replicas = async (): Promise<[SqlDb, SqlDb]> => {
    const r = await openReplicas(dialect, 2);
    closers.push(r.close);
    return [r.dbs[0]!, r.dbs[1]!];
  };
  const raise = (db: SqlDb, l: LifecycleLog, id: string): Promise<LogEvent> =>
    db.transaction((trx) => l.append({ kind: 'alert.raised', alertId: id, rooms: ['alerts:all'], payload: { id } }, trx), {
      locks: ['log'],
    });

  it("each replica's readers get the other's events, in order, once; only the writer announces", async () => {
    const [da, db] = await replicas();
    const la = new LifecycleLog(da, log);
    const lb = new LifecycleLog(db, log);
    await Promise.all([la.flush(), lb.flush()]);
    const seenA: number[] = [];
    const seenB: number[] = [];
    la.subscribe('a', (es: readonly LogEvent[]) => void seenA.push(...es.map((e) => e.seq)));
    lb.subscribe('b', (es: readonly LogEvent[]) => void seenB.push(...es.map((e) => e.seq)));
    const announcedA: number[] = [];
    const announcedB: number[] = [];
    la.setAnnouncer((seq) => announcedA.push(seq));
    lb.setAnnouncer((seq) => announcedB.push(seq));

    await raise(da, la, 'x1');
    await raise(da, la, 'x2');
    await la.flush();
    expect(seenA).toEqual([1, 2]);
    expect(announcedA).toEqual([2]);
    // B hears of it (Redis in the core) and reads the shared table by its cursor.
    await lb.flush();
    expect(seenB).toEqual([1, 2]);
    expect(announcedB).toEqual([]); // nothing of B's own to announce
    await raise(db, lb, 'y1');
    await lb.flush();
    await la.flush();
    expect(seenA).toEqual([1, 2, 3]);
    expect(seenB).toEqual([1, 2, 3]);
    expect(announcedB).toEqual([3]);
  });

  it('follow() finds what the other replica committed without being told (its writer died before announcing)', async () => {
    const [da, db] = await replicas();
    const la = new LifecycleLog(da, log);
    const lb = new LifecycleLog(db, log);
    await lb.flush();
    const seenB: string[] = [];
    lb.subscribe('b', (es) => void seenB.push(...es.map((e) => e.alertId ?? '')));
    const stop = lb.follow(50);
    try {
      await raise(da, la, 'orphan');
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
