import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Incident } from '../../contract';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { openReplicas } from '../../test/support/replicas';
import { one } from '../../test/support/rows';
import type { SqlDb } from '../db/sql';
import { ReviewStore } from './service';

const incident = (id: string, kind: Incident['kind'], createdAt: string, scope: Partial<Incident['scope']> = {}): Incident => ({
  id,
  title: id,
  kind,
  state: 'new',
  cameraId: 'cam',
  cameraName: 'Cam',
  zoneId: null,
  vehicleId: null,
  stationId: null,
  scope: { placement: null, district: null, lines: [], routes: [], ...scope },
  assignee: null,
  alertIds: [],
  links: [],
  createdAt,
  updatedAt: createdAt,
  acknowledgedAt: null,
  dispatchedAt: null,
  resolvedAt: null,
  timeToAcknowledgeS: null,
  events: [],
});

describeOnBothDatabases('ReviewStore', (open) => {
  it('keeps one verdict per incident (the last one), and refuses a false alarm without a reason', async () => {
    const review = new ReviewStore(await open(), { replicaId: 'core-a' });
    expect(await review.verdict('i1')).toBeNull();
    const v1 = await review.setVerdict('i1', 'true-alarm', '  seen on camera ', 'rhea');
    expect(v1).toMatchObject({ incidentId: 'i1', verdict: 'true-alarm', reason: 'seen on camera', by: 'rhea' });
    const v2 = await review.setVerdict('i1', 'false-alarm', 'a shadow', 'olly');
    expect(await review.verdict('i1')).toEqual(v2);
    expect(v2).toMatchObject({ verdict: 'false-alarm', by: 'olly' });
    await expect(review.setVerdict('i2', 'false-alarm', '  ', 'olly')).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await review.verdict('i2')).toBeNull();
  });

  it('lists an incident’s notes oldest first', async () => {
    const review = new ReviewStore(await open(), { replicaId: 'core-a' });
    const a = await review.addNote('i1', 'rhea', 'first');
    await new Promise((r) => setTimeout(r, 2));
    const b = await review.addNote('i1', 'olly', 'second');
    await review.addNote('i2', 'olly', 'elsewhere');
    expect(await review.notes('i1')).toEqual([a, b]);
    expect(await review.notes('none')).toEqual([]);
  });

  it('filters incidents with their verdicts and counts precision per rule', async () => {
    const review = new ReviewStore(await open(), { replicaId: 'core-a' });
    const list = [
      incident('f1', 'fight', '2026-10-01T10:00:00.000Z', { district: '1', lines: ['Blue'] }),
      incident('f2', 'fight', '2026-10-02T10:00:00.000Z', { routes: ['9'] }),
      incident('c1', 'crowding', '2026-10-03T10:00:00.000Z', { district: '2' }),
    ];
    await review.setVerdict('f1', 'true-alarm', '', 'rhea');
    await review.setVerdict('f2', 'false-alarm', 'no fight', 'rhea');
    const ids = async (q: Parameters<ReviewStore['filter']>[1]) => (await review.filter(list, q)).map((r) => r.incident.id);
    expect(await ids({})).toEqual(['f1', 'f2', 'c1']);
    expect(await ids({ kind: 'fight' })).toEqual(['f1', 'f2']);
    expect(await ids({ verdict: 'none' })).toEqual(['c1']);
    expect(await ids({ verdict: 'false-alarm' })).toEqual(['f2']);
    expect(await ids({ line: '9' })).toEqual(['f2']);
    expect(await ids({ district: '1' })).toEqual(['f1']);
    expect(await ids({ from: '2026-10-02T00:00:00.000Z', limit: 1 })).toEqual(['f2']);
    expect((await review.filter(list, { kind: 'fight' }))[0]!.verdict).toMatchObject({ verdict: 'true-alarm' });
    const p = await review.precision(list);
    expect(p.rules.find((r) => r.kind === 'fight')).toEqual({
      kind: 'fight',
      trueAlarms: 1,
      falseAlarms: 1,
      unreviewed: 0,
      precision: 0.5,
    });
    expect(p.rules.find((r) => r.kind === 'crowding')).toMatchObject({ unreviewed: 1, precision: null });
  });

  it('tracks an export and its public copy from building to ready or failed', async () => {
    const review = new ReviewStore(await open(), { replicaId: 'core-a' });
    const e = await review.createExport('i1', 'rhea', { subjects: [3, 7], mode: 'people' });
    expect(e).toMatchObject({ incidentId: 'i1', state: 'building', done: 0, total: 0, createdBy: 'rhea' });
    expect(e.publicCopy).toMatchObject({ state: 'building', subjects: [3, 7], mode: 'people', bytes: null });
    review.setProgress(e.id, 5, 10);
    expect(await review.export(e.id)).toMatchObject({ done: 5, total: 10 });
    const big = 5 * 1024 ** 3; // BIGINT: a package over 4 GiB reads back exactly
    const ready = await review.finishExport(e.id, { path: '/x.zip', bytes: big, sha256: 'abc', fingerprint: 'fp' });
    expect(ready).toMatchObject({ state: 'ready', bytes: big, done: big, total: big, sha256: 'abc', fingerprint: 'fp' });
    const pub = await review.finishPublicCopy(e.id, { path: '/p.zip', bytes: 10, sha256: 'def', boxes: 4, framesWithoutDetections: 1 });
    expect(pub.publicCopy).toMatchObject({ state: 'ready', bytes: 10, sha256: 'def', boxes: 4, framesWithoutDetections: 1 });
    expect(await review.exportRow(e.id)).toMatchObject({ path: '/x.zip', public_path: '/p.zip' });

    const f = await review.createExport('i1', 'olly');
    expect(f.publicCopy).toBeNull();
    expect(await review.finishExport(f.id, { error: 'disk full' })).toMatchObject({ state: 'failed', error: 'disk full' });
    expect((await review.exports('i1')).map((x) => x.id).sort()).toEqual([e.id, f.id].sort());
    expect(await review.exports('i2')).toEqual([]);
    expect(await review.export('nope')).toBeNull();
    expect(await review.exportRow('nope')).toBeNull();
  });

  it('fails, at start, the exports this replica id left building and those without a heartbeat, not a live build of another', async () => {
    const db = await open();
    const before = new ReviewStore(db, { replicaId: 'core-a' });
    const a = await before.createExport('i1', 'rhea', { subjects: [], mode: 'people' });
    const b = await before.createExport('i1', 'rhea');
    await before.finishExport(b.id, { path: '/b.zip', bytes: 1, sha256: 's', fingerprint: 'f' });
    before.stopHeartbeats();
    const other = new ReviewStore(db, { replicaId: 'core-b' });
    const live = await other.createExport('i2', 'olly');
    // What an earlier Sentinel left: no builder, no heartbeat.
    const old = await other.createExport('i3', 'olly');
    await sql`UPDATE evidence_exports SET builder = NULL, heartbeat_at_ms = NULL WHERE id = ${old.id}`.execute(db.as());

    // The same fixed cluster.replicaId, restarted: whatever it had in progress died with it.
    const restarted = new ReviewStore(db, { replicaId: 'core-a' });
    expect(await restarted.failInterrupted()).toBe(2);
    expect(await restarted.export(a.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/core stopped/) });
    expect((await restarted.export(a.id))?.publicCopy).toMatchObject({ state: 'failed', error: expect.stringMatching(/public copy/) });
    expect(await restarted.export(b.id)).toMatchObject({ state: 'ready' });
    expect(await restarted.export(old.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/core stopped/) });
    expect(await restarted.export(live.id)).toMatchObject({ state: 'building' });
    other.stopHeartbeats();
  });
});

const STALE_MS = 600;
const HEARTBEAT_MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeOnBothDatabases('evidence exports across core replicas', (_open, dialect) => {
  let replicas: Awaited<ReturnType<typeof openReplicas>>;
  const stores: ReviewStore[] = [];
  const store = (db: SqlDb, replicaId: string) => {
    const s = new ReviewStore(db, { replicaId, heartbeatEveryMs: HEARTBEAT_MS, staleAfterMs: STALE_MS });
    stores.push(s);
    return s;
  };
  const heartbeatOf = async (db: SqlDb, id: string) =>
    (await one(
      db,
      sql<{
        builder: string | null;
        heartbeat_at_ms: number | null;
      }>`SELECT builder, heartbeat_at_ms FROM evidence_exports WHERE id = ${id}`,
    ))!;

  beforeEach(async () => {
    replicas = await openReplicas(dialect, 2);
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) s.stopHeartbeats();
    await replicas.close();
  });

  it("keeps an export a live replica is building through another replica's start and sweeps, package and public copy", async () => {
    const [dbA, dbB] = replicas.dbs as [SqlDb, SqlDb];
    const a = store(dbA, 'core-a');
    const e = await a.createExport('i1', 'rhea', { subjects: [1], mode: 'people' });
    const first = await heartbeatOf(dbB, e.id);
    expect(first.builder).toBe('core-a');

    const b = store(dbB, 'core-b');
    expect(await b.failInterrupted()).toBe(0);
    // Three stale bounds of wall time: only A's heartbeats keep it alive.
    for (let i = 0; i < 6; i++) {
      await sleep(STALE_MS / 2);
      expect(await b.failAbandoned()).toBe(0);
    }
    expect(await b.export(e.id)).toMatchObject({ state: 'building', publicCopy: { state: 'building' } });
    expect((await heartbeatOf(dbB, e.id)).heartbeat_at_ms).toBeGreaterThan(first.heartbeat_at_ms! + STALE_MS);

    // The package is done; the public copy, still building, keeps the heartbeat going.
    await a.finishExport(e.id, { path: '/x.zip', bytes: 1, sha256: 's', fingerprint: 'f' });
    await sleep(STALE_MS * 1.5);
    expect(await b.failAbandoned()).toBe(0);
    const pub = await a.finishPublicCopy(e.id, { path: '/p.zip', bytes: 1, sha256: 'p', boxes: 0, framesWithoutDetections: 0 });
    expect(pub).toMatchObject({ state: 'ready', publicCopy: { state: 'ready' } });
    // Nothing left to heartbeat: the finished row is not written again.
    const settled = (await heartbeatOf(dbB, e.id)).heartbeat_at_ms;
    await sleep(HEARTBEAT_MS * 3);
    expect((await heartbeatOf(dbB, e.id)).heartbeat_at_ms).toBe(settled);
  });

  it('fails an export whose builder stopped heartbeating once its heartbeat is older than the bound, and a late finish does not undo it', async () => {
    const [dbA, dbB] = replicas.dbs as [SqlDb, SqlDb];
    const a = store(dbA, 'core-a');
    const b = store(dbB, 'core-b');
    const dead = await a.createExport('i1', 'rhea', { subjects: [1], mode: 'people' });
    const alive = await b.createExport('i2', 'olly');
    await sleep(HEARTBEAT_MS * 3);
    a.stopHeartbeats(); // A crashed: its rows get no more heartbeats
    const last = (await heartbeatOf(dbB, dead.id)).heartbeat_at_ms!;
    await b.heartbeat(last + STALE_MS + 1);

    // The bound, by the sweeper's clock: not failed at exactly STALE_MS, failed just past it.
    expect(await b.failAbandoned(last + STALE_MS)).toBe(0);
    expect(await b.export(dead.id)).toMatchObject({ state: 'building' });
    expect(await b.failAbandoned(last + STALE_MS + 1)).toBe(1);
    const failed = await b.export(dead.id);
    expect(failed).toMatchObject({ state: 'failed', error: 'the core stopped while this package was being built; export again' });
    expect(failed?.publicCopy).toMatchObject({
      state: 'failed',
      error: 'the core stopped while the public copy was being built; export again',
    });
    expect(await b.export(alive.id)).toMatchObject({ state: 'building' });

    // A builder that was only stalled finishes late: the export stays failed, as its reviewer was told.
    expect(await a.finishExport(dead.id, { path: '/x.zip', bytes: 1, sha256: 's', fingerprint: 'f' })).toMatchObject({
      state: 'failed',
    });
    expect(
      await a.finishPublicCopy(dead.id, { path: '/p.zip', bytes: 1, sha256: 'p', boxes: 0, framesWithoutDetections: 0 }),
    ).toMatchObject({ publicCopy: { state: 'failed' } });
    expect(await a.heartbeat()).toBe(0);
  });

  it('fails a crashed builder’s export within the stale bound of wall time, and an orderly stop fails its own at once', async () => {
    const [dbA, dbB] = replicas.dbs as [SqlDb, SqlDb];
    const a = store(dbA, 'core-a');
    const b = store(dbB, 'core-b');
    const dead = await a.createExport('i1', 'rhea');
    a.stopHeartbeats();
    const last = (await heartbeatOf(dbB, dead.id)).heartbeat_at_ms!;
    let failedAt = 0;
    while (Date.now() - last < STALE_MS * 5) {
      const before = Date.now();
      if ((await b.failAbandoned()) > 0) {
        failedAt = before;
        break;
      }
      await sleep(HEARTBEAT_MS);
    }
    expect(failedAt - last).toBeGreaterThanOrEqual(STALE_MS);
    expect(failedAt - last).toBeLessThan(STALE_MS * 5);
    expect(await b.export(dead.id)).toMatchObject({ state: 'failed' });

    const c = store(dbA, 'core-c');
    const mine = await c.createExport('i3', 'rhea', { subjects: [], mode: 'people' });
    const theirs = await b.createExport('i4', 'olly');
    expect(await c.failOwn()).toBe(1);
    expect(await b.export(mine.id)).toMatchObject({ state: 'failed', publicCopy: { state: 'failed' } });
    expect(await c.export(theirs.id)).toMatchObject({ state: 'building' });
  });
});
