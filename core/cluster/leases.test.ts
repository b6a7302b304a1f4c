import { afterEach, expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { openTwinSql } from '../../test/support/twin-sql';
import type { SqlDb } from '../db/sql';
import { createLogger } from '../logger';
import { LeaseStore, Leases } from './leases';

const log = createLogger('silent');

const until = async (what: string, ok: () => boolean, ms = 3000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describeOnBothDatabases('leases', (open, dialect) => {
  // Two handles on one database, what two replicas share.
  const twins: Array<{ close(): Promise<void> }> = [];
  const shared = async (): Promise<[SqlDb, SqlDb]> => {
    const t = await openTwinSql(dialect);
    twins.push(t);
    return [t.a, t.b];
  };
  afterEach(async () => {
    for (const t of twins.splice(0)) await t.close();
  });

  it('one holder at a time; renewal keeps it; expiry hands it over with a new fence', async () => {
    const [a, b] = await shared();
    const la = new LeaseStore(a);
    const lb = new LeaseStore(b);
    expect(await la.acquire('escalation', 'A', 1000, {}, 10_000)).toBe(1);
    expect(await lb.acquire('escalation', 'B', 1000, {}, 10_500)).toBeNull();
    expect(await la.acquire('escalation', 'A', 1000, {}, 10_900)).toBe(1); // renewed until 11_900
    expect(await lb.acquire('escalation', 'B', 1000, {}, 11_500)).toBeNull();
    expect(await lb.acquire('escalation', 'B', 1000, { load: 1 }, 11_900)).toBe(2);
    expect(await la.acquire('escalation', 'A', 1000, {}, 12_000)).toBeNull();
    expect(await lb.get('escalation')).toMatchObject({ holder: 'B', fence: 2, expiresAtMs: 12_900, info: { load: 1 } });
    expect((await la.get('escalation'))?.acquiredAt).toBe(new Date(11_900).toISOString());
    expect(await la.release('escalation', 'A')).toBe(false);
    expect(await lb.release('escalation', 'B')).toBe(true);
    expect(await la.get('escalation')).toBeNull();
    expect(await la.acquire('escalation', 'A', 1000, {}, 12_000)).toBe(1);
  });

  it('two replicas racing for the same lease never both hold it', async () => {
    const [a, b] = await shared();
    const stores = [new LeaseStore(a), new LeaseStore(b)] as const;
    const ttl = 1000;
    let now = 1_000_000;
    let fence = 0;
    let holder = '';
    for (let round = 0; round < 150; round++) {
      // Every third round the lease is still live: only its holder may renew it. Otherwise it
      // has expired (or is new): exactly one of the two takes it.
      const live = round % 3 === 2;
      now += live ? ttl / 2 : ttl;
      const got = await Promise.all([
        stores[0].acquire('race', 'A', ttl, {}, now),
        stores[1].acquire('race', 'B', ttl, {}, now),
        stores[0].acquire('race-new-' + round, 'A', ttl, {}, now),
        stores[1].acquire('race-new-' + round, 'B', ttl, {}, now),
      ]);
      const winners = ['A', 'B'].filter((_, i) => got[i] !== null);
      expect(winners).toHaveLength(1);
      expect(got.slice(2).filter((f) => f !== null)).toEqual([1]);
      const w = winners[0]!;
      if (live) expect(w).toBe(holder);
      // The fence moves on exactly when the lease changes hands.
      const f = got[w === 'A' ? 0 : 1]!;
      expect(f).toBe(w === holder ? fence : fence + 1);
      fence = f;
      holder = w;
      expect(await stores[1].get('race')).toMatchObject({ holder: w, fence: f, expiresAtMs: now + ttl });
    }
  });

  it('lists leases by prefix, shortens and releases a holder’s leases', async () => {
    const s = new LeaseStore(await open());
    await s.acquire('camera:c1', 'n1', 1000, {}, 5000);
    await s.acquire('camera:c2', 'n2', 1000, {}, 5000);
    await s.acquire('camera_x', 'n1', 1000, {}, 5000);
    await s.acquire('retention', 'n1', 1000, {}, 5000);
    expect((await s.list('camera:')).map((l) => [l.name, l.holder])).toEqual([
      ['camera:c1', 'n1'],
      ['camera:c2', 'n2'],
    ]);
    expect((await s.list()).map((l) => l.name)).toEqual(['camera:c1', 'camera:c2', 'camera_x', 'retention']);
    // Only n1's camera: leases, and only those that expire later than the new bound.
    expect(await s.shorten('n1', 'camera:', 5500)).toBe(1);
    expect(await s.shorten('n1', 'camera:', 5500)).toBe(0);
    expect((await s.get('camera:c1'))?.expiresAtMs).toBe(5500);
    expect((await s.get('camera:c2'))?.expiresAtMs).toBe(6000);
    expect(await s.shorten('n1', '', 5200)).toBe(3);
    expect((await s.get('retention'))?.expiresAtMs).toBe(5200);
    expect(await s.releaseAll('n1')).toBe(3);
    expect((await s.list()).map((l) => l.name)).toEqual(['camera:c2']);
  });

  it('runs inside a caller’s transaction and rolls back with it', async () => {
    const db = await open();
    const s = new LeaseStore(db);
    await expect(
      db.transaction(async (trx) => {
        expect(await s.acquire('node:n1', 'n1', 1000, {}, 5000, trx)).toBe(1);
        expect((await s.list('node:', trx)).length).toBe(1);
        throw new Error('placement failed');
      }),
    ).rejects.toThrow('placement failed');
    expect(await s.get('node:n1')).toBeNull();
  });

  it('alone, every job runs at once and stops at close', async () => {
    const leases = new Leases(null, 'solo', { ttlMs: 1000, renewEveryMs: 300 }, log);
    const events: string[] = [];
    leases.job('retention', () => {
      events.push('start');
      return () => events.push('stop');
    });
    expect(leases.owns('retention')).toBe(true);
    expect(() => leases.job('retention', () => undefined)).toThrow(/twice/);
    await leases.close();
    expect(events).toEqual(['start', 'stop']);
  });

  it('in a cluster, a job runs in one process; the other takes it over after the holder stops renewing', async () => {
    const [a, b] = await shared();
    const opts = { ttlMs: 600, renewEveryMs: 100 };
    const runs: string[] = [];
    const la = new Leases(new LeaseStore(a), 'A', opts, log);
    const lb = new Leases(new LeaseStore(b), 'B', opts, log);
    la.job('escalation', () => {
      runs.push('A+');
      return () => runs.push('A-');
    });
    await until('A to take the job', () => la.owns('escalation'));
    lb.job('escalation', () => {
      runs.push('B+');
      return () => runs.push('B-');
    });
    await new Promise((r) => setTimeout(r, 250));
    expect(runs).toEqual(['A+']);
    expect(lb.owns('escalation')).toBe(false);
    // A "dies": its timer stops without releasing (what kill -9 leaves behind).
    (la as unknown as { closed: boolean }).closed = true;
    const t0 = Date.now();
    await until('B to take the lease over', () => lb.owns('escalation'));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(runs).toEqual(['A+', 'B+']);
    // An orderly close hands the lease over at once.
    await lb.close();
    expect(runs).toEqual(['A+', 'B+', 'B-']);
    expect(await new LeaseStore(a).get('escalation')).toBeNull();
    await la.close();
  });

  it('two runners sharing many jobs: never both run one; every job runs somewhere', async () => {
    const [a, b] = await shared();
    const opts = { ttlMs: 400, renewEveryMs: 50 };
    const running = new Map<string, Set<string>>();
    let overlaps = 0;
    const job = (who: string, name: string) => () => {
      const s = running.get(name) ?? new Set<string>();
      running.set(name, s);
      s.add(who);
      if (s.size > 1) overlaps++;
      return () => void s.delete(who);
    };
    const la = new Leases(new LeaseStore(a), 'A', opts, log);
    const lb = new Leases(new LeaseStore(b), 'B', opts, log);
    const names = Array.from({ length: 8 }, (_, i) => `job-${i}`);
    for (const n of names) {
      la.job(n, job('A', n));
      lb.job(n, job('B', n));
    }
    await until('every job to run', () => names.every((n) => la.owns(n) || lb.owns(n)));
    await new Promise((r) => setTimeout(r, 400));
    expect(overlaps).toBe(0);
    for (const n of names) expect(la.owns(n) !== lb.owns(n)).toBe(true);
    await la.close();
    await until('B to take every job', () => names.every((n) => lb.owns(n)), 5000);
    expect(overlaps).toBe(0);
    await lb.close();
  });
});
