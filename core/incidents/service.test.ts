import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { Alert } from '../../contract';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { num } from '../../test/support/rows';
import { newAlert, spineOn, type Spine } from '../../test/support/spine';
import { AlertStore } from '../alerts/store';
import type { Executor } from '../db/sql';
import { SentinelError } from '../errors';
import { EventBus } from '../events/bus';
import { createLogger } from '../logger';

const WINDOW_MS = 60_000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const at = (ms: number): Date => new Date(T0 + ms);

/** Log event kinds of an incident, oldest first. */
const kinds = async (s: Spine, incidentId: string): Promise<string[]> => (await s.lifecycle.of({ incidentId })).map((e) => e.kind);

const placement = (vehicleId: string) => ({
  lat: 41.88,
  lon: -87.63,
  district: '1',
  communityArea: 'LOOP',
  nearestStation: null,
  vehicleId,
  stale: false,
});

describeOnBothDatabases('IncidentStore', (open) => {
  const spine = async (): Promise<Spine> => spineOn(await open(), { mergeWindowMs: WINDOW_MS });

  it('files an alert into the open incident of its camera and zone within the window, and opens a new one after it', async () => {
    const s = await spine();
    const a = await s.alerts.create(newAlert({ startedAt: at(0) }));
    const first = (await s.incidents.forAlert(a.alert.id))!;
    expect(first).toMatchObject({ state: 'new', cameraId: 'cam-1', zoneId: 'z1', title: 'Crowding at Clark/Lake platform (Platform)' });
    // 50 s later, same camera and zone, another district: merged, and the reach is the union.
    const b = await s.alerts.create(newAlert({ startedAt: at(50_000), scope: { placement: null, district: '2', lines: [], routes: [] } }));
    expect((await s.incidents.forAlert(b.alert.id))!.id).toBe(first.id);
    // The window runs from the incident's latest alert (b), not its first: 50 s + 55 s still joins.
    const c = await s.alerts.create(newAlert({ startedAt: at(105_000) }));
    expect((await s.incidents.forAlert(c.alert.id))!.id).toBe(first.id);
    // More than the window after the latest: a new incident.
    const d = await s.alerts.create(newAlert({ startedAt: at(105_000 + WINDOW_MS + 1) }));
    const second = (await s.incidents.forAlert(d.alert.id))!;
    expect(second.id).not.toBe(first.id);

    const merged = (await s.incidents.get(first.id))!;
    expect(merged.alertIds).toEqual([a.alert.id, b.alert.id, c.alert.id]);
    expect(merged.reach).toEqual({ districts: ['1', '2'], lines: ['Blue'], routes: [], cameras: ['cam-1'] });
    expect(await s.incidents.rooms(first.id)).toEqual(['alerts:all', 'district:1', 'district:2', 'line:Blue', 'camera:cam-1']);
    expect(merged.events.map((e) => e.kind)).toEqual(['created', 'alert', 'alert']);
    expect(await kinds(s, first.id)).toEqual(['incident.created', 'incident.merged', 'incident.merged']);
    expect(await kinds(s, second.id)).toEqual(['incident.created']);
    // Each incident event went to the incident's reach as it was at that moment.
    const merges = await s.lifecycle.of({ incidentId: first.id });
    expect(merges[0]!.rooms).not.toContain('district:2');
    expect(merges[1]!.rooms).toContain('district:2');
  });

  it('never merges on a zone id alone, merges one vehicle across cameras, and a closed incident takes no alert', async () => {
    const s = await spine();
    const a = await s.alerts.create(newAlert({ startedAt: at(0) }));
    // "z1" on another camera is another place.
    const other = await s.alerts.create(newAlert({ cameraId: 'cam-2', cameraName: 'Other', startedAt: at(1000) }));
    // No zone is a zone of its own: it does not join the zoned incident of the same camera.
    const noZone = await s.alerts.create(newAlert({ zoneId: null, zoneName: null, startedAt: at(2000) }));
    const ids = await Promise.all([a, other, noZone].map(async (x) => (await s.incidents.forAlert(x.alert.id))!.id));
    expect(new Set(ids).size).toBe(3);

    const bus1 = await s.alerts.create(
      newAlert({ cameraId: 'bus-cam-1', cameraName: 'Bus 1', zoneId: null, startedAt: at(3000), scope: scopeOn('8123') }),
    );
    const bus2 = await s.alerts.create(
      newAlert({ cameraId: 'bus-cam-2', cameraName: 'Bus 1 rear', zoneId: 'z9', startedAt: at(4000), scope: scopeOn('8123') }),
    );
    const onBus = (await s.incidents.forAlert(bus1.alert.id))!;
    expect((await s.incidents.forAlert(bus2.alert.id))!.id).toBe(onBus.id);
    expect(onBus).toMatchObject({ vehicleId: '8123', links: [{ kind: 'vehicle', ref: '8123' }] });

    await s.incidents.update(ids[0]!, { state: 'resolved' }, 'op');
    const after = await s.alerts.create(newAlert({ startedAt: at(5000) }));
    expect((await s.incidents.forAlert(after.alert.id))!.id).not.toBe(ids[0]);
  });

  it('openOrJoin (and the older addAlert) files an alert once: a second call returns the same incident, created false', async () => {
    const db = await open();
    const s = spineOn(db, { mergeWindowMs: WINDOW_MS });
    // An alert stored without the filing hook, filed by a caller outside the alert store.
    const bare = new AlertStore({ db, bus: new EventBus(), lifecycle: s.lifecycle, audit: s.audit, log: createLogger('silent') });
    const a = (await bare.create(newAlert({ startedAt: at(0) }))).alert;
    expect(await s.incidents.forAlert(a.id)).toBeNull();
    const first = await s.incidents.openOrJoin(a);
    expect(first.created).toBe(true);
    expect(first.incident.alertIds).toEqual([a.id]);
    const again = await s.incidents.openOrJoin(a);
    expect(again).toMatchObject({ created: false, incident: { id: first.incident.id, alertIds: [a.id] } });
    const b = (await bare.create(newAlert({ startedAt: at(1000) }))).alert;
    const joined = await s.incidents.addAlert(b);
    expect(joined.created).toBe(false);
    expect(joined.incident.alertIds).toEqual([a.id, b.id]);
    expect(await num(db, sql<{ n: number }>`SELECT count(*) AS n FROM incident_alerts`)).toBe(2);
    expect(await kinds(s, first.incident.id)).toEqual(['incident.created', 'incident.merged']);
  });

  it('update() moves through the allowed states only, one history entry and one log event per change', async () => {
    const s = await spine();
    const a = await s.alerts.create(newAlert({ startedAt: at(0) }));
    const id = (await s.incidents.forAlert(a.alert.id))!.id;

    const acked = await s.incidents.update(id, { state: 'acknowledged' }, 'op');
    expect(acked.state).toBe('acknowledged');
    expect(acked.acknowledgedAt).not.toBeNull();
    expect(acked.timeToAcknowledgeS).not.toBeNull();
    // The same state again is no change: nothing recorded.
    await s.incidents.update(id, { state: 'acknowledged' }, 'op');
    // Back to "new" is not a transition there is.
    const illegal = s.incidents.update(id, { state: 'new' }, 'op');
    await expect(illegal).rejects.toThrow(/cannot become "new"/);
    await expect(illegal).rejects.toMatchObject({ code: 'conflict' });
    const dispatched = await s.incidents.update(id, { state: 'dispatched' }, 'op');
    expect(dispatched.dispatchedAt).not.toBeNull();
    await expect(s.incidents.update(id, { state: 'acknowledged' }, 'op')).rejects.toBeInstanceOf(SentinelError);
    const resolved = await s.incidents.update(id, { state: 'resolved' }, 'op');
    expect(resolved.resolvedAt).not.toBeNull();
    // Reopened: the first acknowledgement is kept, so time-to-acknowledge does not reset.
    await new Promise((r) => setTimeout(r, 5));
    const reopened = await s.incidents.update(id, { state: 'acknowledged' }, 'op2');
    expect(reopened.acknowledgedAt).toBe(acked.acknowledgedAt);

    const states = reopened.events.filter((e) => e.kind === 'state');
    expect(states.map((e) => [e.state, e.actor])).toEqual([
      ['acknowledged', 'op'],
      ['dispatched', 'op'],
      ['resolved', 'op'],
      ['acknowledged', 'op2'],
    ]);
    const log = (await s.lifecycle.of({ incidentId: id })).filter((e) => e.kind === 'incident.state');
    expect(log.map((e) => e.payload)).toEqual([
      { incidentId: id, from: 'new', state: 'acknowledged' },
      { incidentId: id, from: 'acknowledged', state: 'dispatched' },
      { incidentId: id, from: 'dispatched', state: 'resolved' },
      { incidentId: id, from: 'resolved', state: 'acknowledged' },
    ]);
    expect(log.map((e) => e.actor)).toEqual(['op', 'op', 'op', 'op2']);
    await expect(s.incidents.update('no-such-incident', { note: 'x' }, 'op')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('update() records assignee, notes and links (a link once), each in the history, and the change in the log', async () => {
    const s = await spine();
    const a = await s.alerts.create(newAlert({ startedAt: at(0) }));
    const id = (await s.incidents.forAlert(a.alert.id))!.id;
    await s.incidents.update(id, { assignee: 'dana', note: 'on the way' }, 'op');
    await s.incidents.update(id, { link: { kind: 'station', ref: '40380' } }, 'op');
    const inc = await s.incidents.update(id, { link: { kind: 'station', ref: '40380' }, assignee: null }, 'op');
    expect(inc.assignee).toBeNull();
    expect(inc.links).toEqual([{ kind: 'station', ref: '40380' }]);
    expect(inc.events.map((e) => [e.kind, e.text])).toEqual([
      ['created', a.alert.id],
      ['assign', 'dana'],
      ['note', 'on the way'],
      ['link', 'station:40380'],
      ['assign', null],
      ['link', 'station:40380'],
    ]);
    const updated = (await s.lifecycle.of({ incidentId: id })).filter((e) => e.kind === 'incident.updated');
    expect(updated.map((e) => e.payload)).toEqual([
      { incidentId: id, assignee: 'dana', note: 'on the way' },
      { incidentId: id, link: { kind: 'station', ref: '40380' } },
      { incidentId: id, link: { kind: 'station', ref: '40380' }, assignee: null },
    ]);
  });

  it('an illegal change inside a caller transaction rolls back with it: no state, no history, no log event', async () => {
    const s = await spine();
    const a = await s.alerts.create(newAlert({ startedAt: at(0) }));
    const id = (await s.incidents.forAlert(a.alert.id))!.id;
    const head = await s.lifecycle.head();
    await expect(
      s.db.transaction(
        async (trx) => {
          await s.incidents.update(id, { state: 'dispatched', note: 'sent' }, 'op', trx);
          await s.incidents.update(id, { state: 'new' }, 'op', trx);
        },
        { locks: ['log'] },
      ),
    ).rejects.toMatchObject({ code: 'conflict' });
    const inc = (await s.incidents.get(id))!;
    expect(inc.state).toBe('new');
    expect(inc.events.map((e) => e.kind)).toEqual(['created']);
    expect(await s.lifecycle.head()).toBe(head);
  });

  it('acknowledgeFromAlert acknowledges a new incident once; noteEscalation adds to its history; neither for an alert without one', async () => {
    const s = await spine();
    const a = await s.alerts.create(newAlert({ startedAt: at(0) }));
    const tx = <R>(fn: (trx: Executor) => Promise<R>): Promise<R> => s.db.transaction(fn, { locks: ['log'] });
    const first = await tx((trx) => s.incidents.acknowledgeFromAlert(a.alert.id, 'op', trx));
    expect(first?.state).toBe('acknowledged');
    expect(await tx((trx) => s.incidents.acknowledgeFromAlert(a.alert.id, 'op2', trx))).toBeNull();
    expect(await tx((trx) => s.incidents.acknowledgeFromAlert('no-such-alert', 'op', trx))).toBeNull();
    const noted = await tx((trx) => s.incidents.noteEscalation(a.alert.id, 'no acknowledgement within 60 s', trx));
    expect(noted?.events.at(-1)).toMatchObject({ kind: 'escalated', text: 'no acknowledgement within 60 s', actor: null });
    expect(await tx((trx) => s.incidents.noteEscalation('no-such-alert', 'x', trx))).toBeNull();
    expect((await s.incidents.get(first!.id))!.events.filter((e) => e.kind === 'state')).toHaveLength(1);
  });

  it('noteClip links a ready clip once and records a failed one, in the history and the log', async () => {
    const s = await spine();
    const a = await s.alerts.create(newAlert({ startedAt: at(0) }));
    const ready = { alertId: a.alert.id, clipId: 'clip-1', cameraId: 'cam-1', sha256: 'ab12' };
    await s.incidents.noteClip(a.alert.id, 'clip.ready', ready);
    const inc = (await s.incidents.noteClip(a.alert.id, 'clip.ready', ready))!;
    expect(inc.links).toEqual([{ kind: 'clip', ref: 'clip-1' }]);
    const failed = (await s.incidents.noteClip(a.alert.id, 'clip.failed', { alertId: a.alert.id, cameraId: 'cam-1', error: 'ffmpeg' }))!;
    expect(failed.events.filter((e) => e.kind === 'clip').map((e) => e.text)).toEqual([
      'clip clip-1 ready (sha256 ab12)',
      'clip clip-1 ready (sha256 ab12)',
      'clip failed: ffmpeg',
    ]);
    const log = (await s.lifecycle.of({ incidentId: inc.id })).filter((e) => e.kind.startsWith('clip.'));
    expect(log.map((e) => [e.kind, e.alertId, e.cameraId])).toEqual([
      ['clip.ready', a.alert.id, 'cam-1'],
      ['clip.ready', a.alert.id, 'cam-1'],
      ['clip.failed', a.alert.id, 'cam-1'],
    ]);
    const head = await s.lifecycle.head();
    expect(await s.incidents.noteClip('no-such-alert', 'clip.failed', { error: 'x' })).toBeNull();
    expect(await s.lifecycle.head()).toBe(head);
  });

  it('list() is newest first, open only on request, limited; get/forAlert/rooms of what is absent', async () => {
    const s = await spine();
    const made: Alert[] = [];
    for (let i = 0; i < 3; i++) {
      made.push((await s.alerts.create(newAlert({ cameraId: `cam-${i}`, startedAt: at(i * 1000) }))).alert);
      await new Promise((r) => setTimeout(r, 3)); // distinct created_at
    }
    const ids = await Promise.all(made.map(async (a) => (await s.incidents.forAlert(a.id))!.id));
    expect((await s.incidents.list()).map((i) => i.id)).toEqual([...ids].reverse());
    await s.incidents.update(ids[1]!, { state: 'false-alarm' }, 'op');
    expect((await s.incidents.list({ open: true })).map((i) => i.id)).toEqual([ids[2], ids[0]]);
    expect((await s.incidents.list({ limit: 1 })).map((i) => i.id)).toEqual([ids[2]]);
    expect(await s.incidents.get('nope')).toBeNull();
    expect(await s.incidents.forAlert('nope')).toBeNull();
    expect(await s.incidents.alertIds('nope')).toEqual([]);
    expect(await s.incidents.rooms('nope')).toEqual(['alerts:all']);
  });
});

function scopeOn(vehicleId: string) {
  return { placement: placement(vehicleId), district: '1', lines: [], routes: ['22'] };
}
