import { sql } from 'kysely';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterStatus } from '../../contract';
import type { SqlDb } from '../../core/db/sql';
import { connected, createAndLogin, login, type SignedIn } from '../support/auth';
import { balancer, liaisonClient, portOf, type Client } from '../support/cluster';
import { REDIS_SERVER, startRedis, type RunningRedis } from '../support/redis';
import { num, one, serveSql } from '../support/rows';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { waitFor } from './ingest-helpers';

// Two real `sentinel serve` processes sharing one database and a private redis-server started by
// the test. On SQLite they share the data directory's file (WAL mode: several processes on one
// machine may share it); on Postgres they share one database, as a production cluster does.
describe.skipIf(!REDIS_SERVER)('core replicas over Redis (skipped without redis-server)', () => {
  let redis: RunningRedis;
  let dataDir: string;
  let a: RunningServe;
  let b: RunningServe;
  let liaisonOnB: SignedIn;
  let db: SqlDb;
  const clients: Client[] = [];
  const startReplica = (env: NodeJS.ProcessEnv): Promise<RunningServe> =>
    startServe({ dataDir, env: { SENTINEL_ASSETS: '/nonexistent-assets', ...env }, timeoutMs: 60_000 });
  let env: NodeJS.ProcessEnv;
  const raiseThrough = async (r: RunningServe, district: string): Promise<string> => {
    const res = await r.api('/api/v1/test-alert', { method: 'POST', body: JSON.stringify({ district, cameraId: `cam-${district}` }) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const escalations = (alertId: string): Promise<number> =>
    num(db, sql<{ n: number }>`SELECT count(*) AS n FROM lifecycle_events WHERE alert_id = ${alertId} AND kind = 'alert.escalated'`);
  const holder = async (name: string): Promise<string | null> =>
    (await one(db, sql<{ holder: string }>`SELECT holder FROM leases WHERE name = ${name} AND expires_at_ms > ${Date.now()}`))?.holder ??
    null;

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = tempDir('sentinel-cluster-');
    const configFile = join(dataDir, 'config.json');
    // Production lease TTL (10 s), so "taken over within 15 s" is measured as shipped; alerts
    // escalate after 3 s so the test sees it (the default is 60 s).
    writeFileSync(configFile, JSON.stringify({ push: { escalateAfterS: 3 }, auth: { mfaRequiredRoles: [] } }));
    env = { SENTINEL_REDIS_URL: redis.url, SENTINEL_CONFIG: configFile };
    a = await startReplica(env);
    b = await startReplica(env);
    const liaison = { username: 'liaison-7', password: 'liaison-password-7', role: 'liaison' as const, scope: { districts: ['7'] } };
    await createAndLogin(a.url, a.admin!, liaison);
    // The user was created through A; B signs them in from the shared database.
    liaisonOnB = await login(b.url, liaison.username, liaison.password);
    db = await serveSql(a);
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await db?.close();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it('a liaison connected to replica B gets an alert raised through replica A, once', async () => {
    const c = liaisonClient(b.url, liaisonOnB.token);
    clients.push(c.s);
    await connected(c.s);
    const id = await raiseThrough(a, '7');
    const other = await raiseThrough(a, '9');
    await waitFor('the alert on B', () => c.raised.get(id), 10_000);
    // Out-of-scope alerts stay out of scope across replicas; nothing arrives twice.
    await raiseThrough(b, '7').then((id2) => waitFor('the alert raised on B', () => c.raised.get(id2), 10_000));
    expect(c.raised.get(other)).toBeUndefined();
    expect(c.raised.get(id)).toBe(1);
    c.s.close();
  });

  it('GET /api/v1/cluster (technician view) says which replica runs each job; liaisons may not read it', async () => {
    const res = await b.api('/api/v1/cluster');
    expect(res.status).toBe(200);
    const s = ClusterStatus.parse(await res.json());
    expect(s.clustered).toBe(true);
    expect(s.replicaId).toMatch(new RegExp(`-${b.proc.pid}-`));
    // A started first: it holds every job, B none.
    expect(s.owned).toEqual([]);
    expect(s.leases.map((l) => l.name).sort()).toEqual([
      'audit-checkpoints',
      'escalation',
      'evidence-export-sweep',
      'retention',
      'sms-retention',
    ]);
    for (const l of s.leases) expect(l.holder).toMatch(new RegExp(`-${a.proc.pid}-`));
    expect((await liaisonOnB.api('/api/v1/cluster')).status).toBe(403);
  });

  it('two replicas both escalating the same alert escalate it exactly once', async () => {
    const id = await raiseThrough(a, '7');
    const tries = await Promise.all(
      [a, b, a, b].map((r) => r.api(`/api/v1/alerts/${id}/escalate`, { method: 'POST' }).then((res) => res.status)),
    );
    expect(tries).toEqual([200, 200, 200, 200]);
    expect(await escalations(id)).toBe(1);
    // The timer (on whichever replica holds the escalation lease) finds it escalated, too.
    await new Promise((r) => setTimeout(r, 3500));
    expect(await escalations(id)).toBe(1);
    // An alert nobody acknowledges escalates on timeout once, by the lease holder alone.
    const late = await raiseThrough(b, '7');
    await waitFor('the timeout escalation', async () => (await escalations(late)) > 0, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await escalations(late)).toBe(1);
  }, 30_000);

  it('kill -9 of replica A: its clients reconnect to B and miss nothing; B takes the escalation timers over within 15 s', async () => {
    // A started first and holds the timer jobs.
    expect(await holder('escalation')).toMatch(new RegExp(`-${a.proc.pid}-`));
    const lb = await balancer(() => [portOf(a.url), portOf(b.url)]);
    try {
      const liaisonOnA = await login(a.url, 'liaison-7', 'liaison-password-7');
      const c = liaisonClient(lb.url, liaisonOnA.token);
      clients.push(c.s);
      await connected(c.s);
      const before = await raiseThrough(a, '7');
      await waitFor('the alert through A', () => c.raised.get(before), 10_000);

      const lost = new Promise<void>((resolve) => c.s.once('disconnect', () => resolve()));
      a.proc.kill('SIGKILL');
      const killedAt = Date.now();
      await lost;
      // Raised while the client is between replicas: it must get them by replay from its cursor.
      const during = [await raiseThrough(b, '7'), await raiseThrough(b, '7')];
      await waitFor('the reconnection to B', () => c.s.connected, 15_000);
      for (const id of during) await waitFor(`replayed alert ${id}`, () => c.raised.get(id), 10_000);
      const after = await raiseThrough(b, '7');
      await waitFor('a live alert on B', () => c.raised.get(after), 10_000);
      expect([before, ...during, after].map((id) => c.raised.get(id))).toEqual([1, 1, 1, 1]);

      // Nobody acknowledges them: B, now the timers' owner, escalates each once.
      await waitFor('escalations by B', async () => (await Promise.all(during.map(escalations))).every((n) => n === 1), 20_000, 100);
      expect(Date.now() - killedAt).toBeLessThan(15_000 + 3000);
      expect(await holder('escalation')).toMatch(new RegExp(`-${b.proc.pid}-`));
      await waitFor('the escalations on the client', () => during.every((id) => c.escalated.some((e) => e.alertId === id)), 10_000);
    } finally {
      lb.close();
    }
  }, 60_000);
});
