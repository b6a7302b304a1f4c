import { expect, it } from 'vitest';
import type { Incident } from '../../contract';
import { describeOnBothDatabases } from '../../test/support/dialects';
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
    const review = new ReviewStore(await open());
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
    const review = new ReviewStore(await open());
    const a = await review.addNote('i1', 'rhea', 'first');
    await new Promise((r) => setTimeout(r, 2));
    const b = await review.addNote('i1', 'olly', 'second');
    await review.addNote('i2', 'olly', 'elsewhere');
    expect(await review.notes('i1')).toEqual([a, b]);
    expect(await review.notes('none')).toEqual([]);
  });

  it('filters incidents with their verdicts and counts precision per rule', async () => {
    const review = new ReviewStore(await open());
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
    const review = new ReviewStore(await open());
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

  it('fails the exports a stopped core left building', async () => {
    const review = new ReviewStore(await open());
    const a = await review.createExport('i1', 'rhea', { subjects: [], mode: 'people' });
    const b = await review.createExport('i1', 'rhea');
    await review.finishExport(b.id, { path: '/b.zip', bytes: 1, sha256: 's', fingerprint: 'f' });
    await review.failInterrupted();
    expect(await review.export(a.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/core stopped/) });
    expect((await review.export(a.id))?.publicCopy).toMatchObject({ state: 'failed', error: expect.stringMatching(/public copy/) });
    expect(await review.export(b.id)).toMatchObject({ state: 'ready' });
  });
});
