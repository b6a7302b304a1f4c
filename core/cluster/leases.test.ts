import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/database';
import { createLogger } from '../logger';
import { LeaseStore, Leases } from './leases';

const log = createLogger('silent');

// Two connections to one SQLite file in WAL mode: what two replicas on one machine share.
describe('leases', () => {
  const dirs: string[] = [];
  const dbs: Database[] = [];
  const open = (dir: string): Database => {
    const db = openDatabase(join(dir, 'sentinel.db'));
    dbs.push(db);
    return db;
  };
  const shared = (): [Database, Database] => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-leases-'));
    dirs.push(dir);
    return [open(dir), open(dir)];
  };
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('one holder at a time; renewal keeps it; expiry hands it over with a new fence', () => {
    const [a, b] = shared();
    const la = new LeaseStore(a);
    const lb = new LeaseStore(b);
    expect(la.acquire('escalation', 'A', 1000, {}, 10_000)).toBe(1);
    expect(lb.acquire('escalation', 'B', 1000, {}, 10_500)).toBeNull();
    expect(la.acquire('escalation', 'A', 1000, {}, 10_900)).toBe(1); // renewed until 11_900
    expect(lb.acquire('escalation', 'B', 1000, {}, 11_500)).toBeNull();
    expect(lb.acquire('escalation', 'B', 1000, { load: 1 }, 11_900)).toBe(2);
    expect(la.acquire('escalation', 'A', 1000, {}, 12_000)).toBeNull();
    expect(lb.get('escalation')).toMatchObject({ holder: 'B', fence: 2, expiresAtMs: 12_900, info: { load: 1 } });
    expect(la.release('escalation', 'A')).toBe(false);
    expect(lb.release('escalation', 'B')).toBe(true);
    expect(la.acquire('escalation', 'A', 1000, {}, 12_000)).toBe(1);
  });

  it('lists leases by prefix', () => {
    const [a] = shared();
    const s = new LeaseStore(a);
    s.acquire('camera:c1', 'n1', 1000);
    s.acquire('camera:c2', 'n2', 1000);
    s.acquire('retention', 'n1', 1000);
    expect(s.list('camera:').map((l) => [l.name, l.holder])).toEqual([
      ['camera:c1', 'n1'],
      ['camera:c2', 'n2'],
    ]);
    expect(s.releaseAll('n1')).toBe(2);
  });

  it('alone, every job runs at once and stops at close', () => {
    const leases = new Leases(null, 'solo', { ttlMs: 1000, renewEveryMs: 300 }, log);
    const events: string[] = [];
    leases.job('retention', () => {
      events.push('start');
      return () => events.push('stop');
    });
    expect(leases.owns('retention')).toBe(true);
    expect(() => leases.job('retention', () => undefined)).toThrow(/twice/);
    leases.close();
    expect(events).toEqual(['start', 'stop']);
  });

  it('in a cluster, a job runs in one process; the other takes it over after the holder stops renewing', async () => {
    const [a, b] = shared();
    const opts = { ttlMs: 600, renewEveryMs: 100 };
    const runs: string[] = [];
    const la = new Leases(new LeaseStore(a), 'A', opts, log);
    const lb = new Leases(new LeaseStore(b), 'B', opts, log);
    la.job('escalation', () => {
      runs.push('A+');
      return () => runs.push('A-');
    });
    lb.job('escalation', () => {
      runs.push('B+');
      return () => runs.push('B-');
    });
    expect(runs).toEqual(['A+']);
    expect(la.owns('escalation')).toBe(true);
    expect(lb.owns('escalation')).toBe(false);
    // A "dies": its timer stops without releasing (what kill -9 leaves behind).
    (la as unknown as { closed: boolean }).closed = true;
    const t0 = Date.now();
    while (!lb.owns('escalation')) {
      if (Date.now() - t0 > 3000) throw new Error('B never took the lease over');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(runs).toEqual(['A+', 'B+']);
    // An orderly close hands the lease over at once.
    lb.close();
    expect(runs).toEqual(['A+', 'B+', 'B-']);
    expect(new LeaseStore(a).get('escalation')).toBeNull();
    la.close();
  });
});
