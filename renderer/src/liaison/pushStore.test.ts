import { describe, expect, it } from 'vitest';
import type { Alert, Incident } from '../../../contract';
import type { CoreSocket } from '../client/connection';
import { alertPlace, createPushStore, groupByIncident } from './pushStore';

/**
 * A stand-in for the socket that only routes handlers: what is under test is the store's
 * bookkeeping (de-duplication, acks, escalations), not the transport (test/integration/push).
 */
function fakeSocket() {
  const handlers = new Map<string, (p: unknown) => void>();
  const socket = {
    on: (e: string, fn: (p: unknown) => void) => handlers.set(e, fn),
    off: (e: string) => handlers.delete(e),
  } as unknown as CoreSocket;
  return { socket, fire: (e: string, p: unknown) => handlers.get(e)?.(p) };
}

const alert = (id: string, district = '1'): Alert => ({
  id,
  kind: 'crowding',
  cameraId: 'c',
  cameraName: 'Clark/Lake',
  zoneId: null,
  zoneName: null,
  score: 0.9,
  startedAt: '2026-11-28T20:00:00.000Z',
  endedAt: null,
  snapshotUrl: null,
  trackIds: [],
  detail: {},
  scope: { placement: null, district, lines: ['Blue'], routes: [] },
});

const incident = (id: string, alertIds: string[], links: Incident['links'] = []): Incident => ({
  id,
  title: 'Crowding at Clark/Lake',
  kind: 'crowding',
  state: 'new',
  cameraId: 'c',
  cameraName: 'Clark/Lake',
  zoneId: null,
  vehicleId: null,
  stationId: null,
  scope: alert(alertIds[0]!).scope,
  assignee: null,
  alertIds,
  links,
  createdAt: '2026-11-28T20:00:00.000Z',
  updatedAt: '2026-11-28T20:00:00.000Z',
  acknowledgedAt: null,
  dispatchedAt: null,
  resolvedAt: null,
  timeToAcknowledgeS: null,
  events: [],
});

describe('push store', () => {
  it('keeps one entry per alert id when a reconnect replays it, newest first', () => {
    const f = fakeSocket();
    const store = createPushStore(f.socket);
    f.fire('alert:raised', alert('a1'));
    f.fire('alert:raised', alert('a2'));
    f.fire('alert:raised', { ...alert('a1'), endedAt: '2026-11-28T20:05:00.000Z' }); // replayed, and changed meanwhile
    f.fire('alert:raised', { not: 'an alert' });
    expect(store.state.get().alerts.map((p) => p.alert.id)).toEqual(['a2', 'a1']);
    expect(store.state.get().alerts[1]!.alert.endedAt).toBe('2026-11-28T20:05:00.000Z');
  });

  it('folds in acknowledgements (once per person) and escalations', () => {
    const f = fakeSocket();
    const store = createPushStore(f.socket);
    f.fire('alert:raised', alert('a1'));
    const ack = { alertId: 'a1', by: 'lee', role: 'liaison', at: '2026-11-28T20:00:03.000Z' };
    f.fire('alert:acked', ack);
    f.fire('alert:acked', ack);
    f.fire('alert:escalated', { alertId: 'a1', at: '2026-11-28T20:01:00.000Z', afterS: 60, reason: 'no acknowledgement within 60 s' });
    const p = store.state.get().alerts[0]!;
    expect(p.acks).toEqual([ack]);
    expect(p.escalated?.reason).toBe('no acknowledgement within 60 s');
    expect(alertPlace(p.alert)).toBe('District 1 · Blue line');
  });

  it("keeps each alert's incident from the state sent at connection and from later changes", () => {
    const f = fakeSocket();
    const store = createPushStore(f.socket);
    const inc = (links: Incident['links']): Incident => incident('i1', ['a1', 'a2'], links);
    // A page opened after the clip was cut learns it from the connection's state.
    f.fire('alerts:resync', {
      cursor: 7,
      reason: 'fresh connection',
      alerts: [alert('a2'), alert('a1')],
      acks: [],
      escalations: [],
      incidents: [inc([{ kind: 'clip', ref: 'clip-1' }])],
    });
    expect(store.state.get().incidents.get('a1')?.links).toEqual([{ kind: 'clip', ref: 'clip-1' }]);
    expect(store.state.get().incidents.get('a2')?.id).toBe('i1');
    // A later change (a second clip) replaces it; a malformed one changes nothing.
    f.fire(
      'incident:upsert',
      inc([
        { kind: 'clip', ref: 'clip-1' },
        { kind: 'clip', ref: 'clip-2' },
      ]),
    );
    f.fire('incident:upsert', { id: 'i1' });
    expect(
      store.state
        .get()
        .incidents.get('a1')
        ?.links.map((l) => l.ref),
    ).toEqual(['clip-1', 'clip-2']);
    expect(store.state.get().alerts.map((p) => p.alert.id)).toEqual(['a1', 'a2']);
  });
  it('shows one card per incident: its alerts newest first, everyone who acknowledged any once, the newest escalation', () => {
    const f = fakeSocket();
    const store = createPushStore(f.socket);
    for (const id of ['a1', 'b1', 'a2', 'a3']) f.fire('alert:raised', alert(id));
    f.fire('incident:upsert', incident('i1', ['a1', 'a2', 'a3']));
    f.fire('alert:acked', { alertId: 'a1', by: 'lee', role: 'liaison', at: '2026-11-28T20:00:03.000Z' });
    f.fire('alert:acked', { alertId: 'a3', by: 'lee', role: 'liaison', at: '2026-11-28T20:02:00.000Z' });
    f.fire('alert:acked', { alertId: 'a2', by: 'ops', role: 'operator', at: '2026-11-28T20:01:00.000Z' });
    f.fire('alert:escalated', { alertId: 'a1', at: '2026-11-28T20:01:00.000Z', afterS: 60, reason: 'first' });
    f.fire('alert:escalated', { alertId: 'a2', at: '2026-11-28T20:02:00.000Z', afterS: 60, reason: 'second' });
    const { alerts, incidents } = store.state.get();
    const groups = groupByIncident(alerts, incidents);
    // b1 has no incident yet: a card of its own, in the order of its newest alert.
    expect(groups.map((g) => [g.key, g.alerts.map((p) => p.alert.id)])).toEqual([
      ['i1', ['a3', 'a2', 'a1']],
      ['b1', ['b1']],
    ]);
    expect(groups[0]!.acks.map((a) => `${a.by} ${a.alertId}`)).toEqual(['lee a1', 'ops a2']);
    expect(groups[0]!.escalated?.reason).toBe('second');
    expect(groups[1]!.acks).toEqual([]);
    expect(groups[1]!.escalated).toBeNull();
  });
});
