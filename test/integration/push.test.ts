import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident, TestAlertRequest } from '../../contract';
import type { CoreHandle } from '../../core/app';
import type { SignedIn } from '../support/auth';
import { liaisonCore, type LiaisonCore } from '../support/liaison';
import { one } from '../support/rows';
import { sql } from 'kysely';
import { waitFor } from './ingest-helpers';

// Liaison push over a real core and real socket.io clients.
describe('liaison push: scoped rooms, acknowledgement, replay, escalation', () => {
  let lc: LiaisonCore;
  let core: CoreHandle;
  let operator: SignedIn;
  let d1: SignedIn;
  let d2: SignedIn;
  let backup: SignedIn;
  const sock = (u: SignedIn, opts?: { lastAlertId?: string }) => lc.sock(u, opts);
  const send = (t: TestAlertRequest) => lc.send(t);

  beforeAll(async () => {
    lc = await liaisonCore();
    ({ core, operator, d1, d2, backup } = lc);
  });
  afterAll(async () => {
    await lc?.close();
  });

  it('a socket event holding a NUL character is refused with an answer naming the field, on either database', async () => {
    const one = await sock(d1);
    expect(await one.s.timeout(5000).emitWithAck('alert:ack', { alertId: 'a\u0000b' })).toEqual({
      ok: false,
      error: 'payload: alertId contains a NUL character',
    });
    // The socket still works: an unknown id is the usual answer.
    expect(await one.s.timeout(5000).emitWithAck('alert:ack', { alertId: 'no-such-alert' })).toEqual({
      ok: false,
      error: 'no alert with id no-such-alert',
    });
  });

  it("a district-1 liaison gets district 1's and the Red line's alerts, never district 2's; the operator gets all", async () => {
    const [op, one, two] = [await sock(operator), await sock(d1), await sock(d2)];
    const a1 = await send({ district: '1', cameraId: 'cam-a' });
    const a2 = await send({ district: '2', cameraId: 'cam-b' });
    const red = await send({ district: '3', lines: ['Red'], cameraId: 'cam-c' });
    await waitFor('operator has all three', () => op.raised.length >= 3, 5000);
    await waitFor('d2 has its alert', () => two.raised.length >= 1, 5000);
    await waitFor('d1 has two', () => one.raised.length >= 2, 5000);
    // A last alert for district 2 proves d1's socket was flushed past a2 before we assert.
    const marker = await send({ district: '1', cameraId: 'cam-z' });
    await waitFor('d1 marker', () => one.raised.some((a) => a.id === marker), 5000);
    expect(one.raised.map((a) => a.id)).toEqual([a1, red, marker]);
    expect(two.raised.map((a) => a.id)).toEqual([a2]);
    expect(op.raised.map((a) => a.id)).toEqual([a1, a2, red, marker]);
    // Incidents follow the same scope.
    await waitFor('d1 incidents', () => one.incidents.length >= 3, 5000);
    expect(one.incidents.every((i) => i.scope.district === '1' || i.scope.lines.includes('Red'))).toBe(true);
    const list = (await (await d1.api('/api/v1/incidents')).json()) as { incidents: Incident[] };
    expect(list.incidents.some((i) => i.scope.district === '2')).toBe(false);
    const other = op.incidents.find((i) => i.alertIds.includes(a2))!;
    expect((await d1.api(`/api/v1/incidents/${other.id}`)).status).toBe(404);
  });

  it('the liaison acknowledges; the operator sees who and when; the incident is acknowledged; out of scope is refused', async () => {
    const [op, one] = [await sock(operator), await sock(d1)];
    const id = await send({ district: '1', cameraId: 'cam-ack' });
    await waitFor('d1 got it', () => one.raised.some((a) => a.id === id), 5000);
    const reply = await one.s.timeout(5000).emitWithAck('alert:ack', { alertId: id });
    expect(reply).toEqual({ ok: true });
    const ack = await waitFor('operator sees ack', () => op.acked.find((a) => a.alertId === id), 5000);
    expect(ack).toMatchObject({ by: 'd1', role: 'liaison' });
    const inc = await waitFor(
      'incident acknowledged',
      () => op.incidents.find((i) => i.alertIds.includes(id) && i.state === 'acknowledged'),
      5000,
    );
    expect(inc.timeToAcknowledgeS).not.toBeNull();
    const foreign = await send({ district: '2', cameraId: 'cam-foreign' });
    expect(await one.s.timeout(5000).emitWithAck('alert:ack', { alertId: foreign })).toEqual({
      ok: false,
      error: `no alert with id ${foreign}`,
    });
  });

  it('a liaison that reconnects receives exactly what it missed, in order (at-least-once by id)', async () => {
    const first = await sock(d1);
    const seen = await send({ district: '1', cameraId: 'cam-r0' });
    await waitFor('seen', () => first.raised.some((a) => a.id === seen), 5000);
    first.s.close();
    const missed = [
      await send({ district: '1', cameraId: 'cam-r1' }),
      await send({ district: '2', cameraId: 'cam-r2' }),
      await send({ district: '1', cameraId: 'cam-r3' }),
    ];
    const again = await sock(d1, { lastAlertId: seen });
    await waitFor('replayed', () => again.raised.length >= 2, 5000);
    expect(again.raised.map((a) => a.id)).toEqual([missed[0], missed[2]]);
    // A liaison's first connection (nothing seen yet) gets the recent alerts of its scope,
    // oldest first; an operator's console loads its queue over REST instead.
    const fresh = await sock(d1);
    await waitFor('first-connection replay', () => fresh.raised.some((a) => a.id === missed[2]), 5000);
    expect(fresh.raised.every((a) => a.scope.district === '1' || a.scope.lines.includes('Red'))).toBe(true);
    expect(fresh.raised.at(-1)?.id).toBe(missed[2]);
    // ...with their incidents, where its cards find the clip and the vehicle.
    const inc = await waitFor(
      'the incident of a first-connection alert',
      () => fresh.incidents.find((i) => i.alertIds.includes(missed[2]!)),
      5000,
    );
    expect(inc.scope.district).toBe('1');
    expect(fresh.incidents.every((i) => i.scope.district === '1' || i.scope.lines.includes('Red'))).toBe(true);
    const op = await sock(operator);
    const marker = await send({ district: '3', cameraId: 'cam-r4' });
    await waitFor('operator live alert', () => op.raised.some((a) => a.id === marker), 5000);
    expect(op.raised.map((a) => a.id)).toEqual([marker]);
  });

  it('an unacknowledged alert escalates to the operator and the next liaison (who was out of scope)', async () => {
    const [op, sup, two] = [await sock(operator), await sock(backup), await sock(d2)];
    const id = await send({ district: '2', cameraId: 'cam-esc' });
    const acked = await send({ district: '2', cameraId: 'cam-esc-acked' });
    await waitFor('d2 got both', () => two.raised.filter((a) => a.id === id || a.id === acked).length === 2, 5000);
    expect(core.lifecycle.push.pendingEscalations()).toEqual(expect.arrayContaining([id, acked]));
    expect(await two.s.timeout(5000).emitWithAck('alert:ack', { alertId: acked })).toEqual({ ok: true });
    // The acknowledgement cancelled that alert's escalation; the other one still waits.
    expect(core.lifecycle.push.pendingEscalations()).not.toContain(acked);
    expect(sup.raised.some((a) => a.id === id)).toBe(false);
    // Before it escalates, the backup liaison cannot open it either: out of scope reads as absent.
    expect((await backup.api(`/api/v1/alerts/${id}`)).status).toBe(404);
    const e = await waitFor('operator sees escalation', () => op.escalated.find((x) => x.alertId === id), 10_000);
    expect(e.reason).toMatch(/no acknowledgement within 2 s|no acknowledgement within 1 s/);
    await waitFor('backup liaison got the alert', () => sup.raised.some((a) => a.id === id), 5000);
    await waitFor('backup liaison got the escalation', () => sup.escalated.some((x) => x.alertId === id), 5000);
    // Pushed to them, it opens for them over REST too (its detail, its place in the list: the
    // card's snapshot is read the same way), by the same rule; the acknowledged one stays out of reach.
    const detail = await backup.api(`/api/v1/alerts/${id}`);
    expect(detail.status).toBe(200);
    expect(((await detail.json()) as { id: string }).id).toBe(id);
    const listed = (await (await backup.api('/api/v1/alerts?limit=500')).json()) as { alerts: Array<{ alert: { id: string } }> };
    expect(listed.alerts.map((r) => r.alert.id)).toContain(id);
    expect(listed.alerts.map((r) => r.alert.id)).not.toContain(acked);
    expect((await backup.api(`/api/v1/alerts/${acked}`)).status).toBe(404);
    expect((await d1.api(`/api/v1/alerts/${id}`)).status).toBe(404);
    // The backup may now acknowledge it; the acknowledged one never escalated.
    expect(await sup.s.timeout(5000).emitWithAck('alert:ack', { alertId: id })).toEqual({ ok: true });
    expect(op.escalated.some((x) => x.alertId === acked)).toBe(false);
    expect(await one(core.sql, sql`SELECT alert_id FROM alert_escalations WHERE alert_id = ${acked}`)).toBeUndefined();
  });
});
