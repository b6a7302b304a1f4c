import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiErrorBody, EvidenceExport, ReviewList } from '../../contract';
import type { SqlDb } from '../../core/db/sql';
import { createAndLogin, login, type SignedIn } from '../support/auth';
import { REDIS_SERVER, startRedis, type RunningRedis } from '../support/redis';
import { one, serveSql } from '../support/rows';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { waitFor } from './ingest-helpers';

const REVIEWER = { username: 'rita', password: 'reviewer-password-1', role: 'reviewer' } as const;

/**
 * Evidence exports on two real `sentinel serve` replicas sharing one database, one data
 * directory and a private redis-server, each with a fixed `cluster.replicaId`: a package built
 * by one downloads through the other, a replica's start fails only the exports whose builder
 * stopped heartbeating, and a replica that cannot see another's file says so.
 */
describe.skipIf(!REDIS_SERVER)('evidence exports on core replicas (skipped without redis-server)', () => {
  let redis: RunningRedis;
  let dataDir: string;
  let a: RunningServe;
  let b: RunningServe;
  let onA: SignedIn;
  let onB: SignedIn;
  let db: SqlDb;
  let incidentId: string;

  const configFor = (dir: string, replicaId: string): string => {
    const file = join(dir, `${replicaId}.json`);
    writeFileSync(file, JSON.stringify({ cluster: { replicaId }, auth: { mfaRequiredRoles: [] } }));
    return file;
  };
  const startReplica = (replicaId: string): Promise<RunningServe> =>
    startServe({
      dataDir,
      env: { SENTINEL_REDIS_URL: redis.url, SENTINEL_CONFIG: configFor(tempDir(), replicaId), SENTINEL_ASSETS: '/nonexistent-assets' },
      timeoutMs: 60_000,
    });
  const exportOf = async (on: SignedIn, id: string): Promise<EvidenceExport> => {
    const res = await on.api(`/api/v1/evidence/${id}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return EvidenceExport.parse(await res.json());
  };
  /** An export row as a replica building it writes it (the test plays that replica). */
  const building = async (builder: string, heartbeatAtMs: number): Promise<string> => {
    const id = `e-${builder}-${heartbeatAtMs}`;
    await sql`INSERT INTO evidence_exports (id, incident_id, state, created_by, created_at, builder, heartbeat_at_ms)
              VALUES (${id}, ${incidentId}, 'building', ${REVIEWER.username}, ${new Date().toISOString()}, ${builder}, ${heartbeatAtMs})`.execute(
      db.as(),
    );
    return id;
  };

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = tempDir();
    a = await startReplica('core-a');
    b = await startReplica('core-b');
    onA = await createAndLogin(a.url, a.admin!, REVIEWER);
    onB = await login(b.url, REVIEWER.username, REVIEWER.password);
    db = await serveSql(a);
    const sent = await a.api('/api/v1/test-alert', {
      method: 'POST',
      body: JSON.stringify({ kind: 'crowding', cameraId: 'cam-evidence', cameraName: 'Evidence platform' }),
    });
    expect(sent.status, await sent.clone().text()).toBe(201);
    const { id: alertId } = (await sent.json()) as { id: string };
    incidentId = await waitFor(
      'the incident on B',
      async () => {
        const list = ReviewList.parse(await (await onB.api('/api/v1/review/incidents?kind=crowding')).json());
        return list.incidents.find((e) => e.incident.alertIds.includes(alertId))?.incident.id;
      },
      10_000,
      100,
    );
  }, 180_000);

  afterAll(async () => {
    await db?.close();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it('builds a package on the replica asked and downloads it through the other, byte for byte', async () => {
    const started = await onA.api(`/api/v1/review/incidents/${incidentId}/evidence`, { method: 'POST' });
    expect(started.status, await started.clone().text()).toBe(202);
    const job = EvidenceExport.parse(await started.json());
    const ready = await waitFor(
      'the package, seen through B',
      async () => {
        const e = await exportOf(onB, job.id);
        return e.state !== 'building' && e;
      },
      20_000,
      100,
    );
    expect(ready).toMatchObject({ state: 'ready', error: null });
    expect(await one(db, sql<{ builder: string | null }>`SELECT builder FROM evidence_exports WHERE id = ${job.id}`)).toEqual({
      builder: 'core-a',
    });
    const dl = await onB.api(`/api/v1/evidence/${job.id}/package.zip`);
    expect(dl.status, dl.status === 200 ? '' : await dl.clone().text()).toBe(200);
    const body = Buffer.from(await dl.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(ready.sha256);
    expect(dl.headers.get('x-content-sha256')).toBe(ready.sha256);
  });

  it("fails at a replica's start only the exports whose builder is gone, not a live replica's build", async () => {
    // A live builder heartbeats every second for as long as B takes to restart.
    const live = await building('core-elsewhere', Date.now());
    const beat = setInterval(
      () =>
        void sql`UPDATE evidence_exports SET heartbeat_at_ms = ${Date.now()} WHERE id = ${live}`.execute(db.as()).catch(() => undefined),
      1000,
    );
    try {
      const gone = await building('core-gone', Date.now() - 60_000);
      // B's own id, left building by its previous process: a fixed replica id comes back with nothing in progress.
      const previous = await building('core-b', Date.now());
      await b.stop();
      b = await startReplica('core-b');
      onB = await login(b.url, REVIEWER.username, REVIEWER.password);
      const failed = 'the core stopped while this package was being built; export again';
      expect(await exportOf(onB, gone)).toMatchObject({ state: 'failed', error: failed });
      expect(await exportOf(onB, previous)).toMatchObject({ state: 'failed', error: failed });
      expect(await exportOf(onB, live)).toMatchObject({ state: 'building', error: null });
    } finally {
      clearInterval(beat);
    }
  }, 120_000);

  it('a replica that cannot see the package file names its builder instead of a bare 404', async () => {
    const started = await onA.api(`/api/v1/review/incidents/${incidentId}/evidence`, { method: 'POST' });
    const job = EvidenceExport.parse(await started.json());
    await waitFor('the package', async () => (await exportOf(onA, job.id)).state === 'ready', 20_000, 100);
    // As if A had written it to a disk of its own rather than the shared data directory.
    const file = join(dataDir, 'evidence', `${job.id}.zip`);
    renameSync(file, `${file}.elsewhere`);
    try {
      const dl = await onB.api(`/api/v1/evidence/${job.id}/package.zip`);
      expect(dl.status).toBe(503);
      expect(ApiErrorBody.parse(await dl.json()).error).toEqual({
        code: 'unavailable',
        message: `evidence export ${job.id} was built by core replica core-a and its file ${file} is not on this replica (core-b): core replicas must share one data directory, mounted at the same path (docs/scale.md)`,
      });
      // The builder itself has no sibling to blame: the file is missing.
      const own = await onA.api(`/api/v1/evidence/${job.id}/package.zip`);
      expect(own.status).toBe(404);
      expect(ApiErrorBody.parse(await own.json()).error.message).toBe(`the file of evidence export ${job.id} is missing`);
    } finally {
      renameSync(`${file}.elsewhere`, file);
    }
    expect((await onB.api(`/api/v1/evidence/${job.id}/package.zip`)).status).toBe(200);
  });
});
