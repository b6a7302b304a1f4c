import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { num, rows } from '../../test/support/rows';
import { newAlert, OPERATOR, SECOND_OPERATOR, spineOn, type Spine } from '../../test/support/spine';

const TOLD = { rooms: ['escalation'], liaisons: ['liaison-1'] };

/** Rows of a table about one alert or target (the table and column are the test's own literals). */
const countWhere = (s: Spine, table: string, column: string, value: string): Promise<number> =>
  num(s.db, sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE ${sql.ref(column)} = ${value}`);
/** The alert's own log events (its incident's creation also names it). */
const logKinds = async (s: Spine, alertId: string): Promise<string[]> =>
  (await s.lifecycle.of({ alertId })).map((e) => e.kind).filter((k) => k.startsWith('alert.'));

describeOnBothDatabases('LifecycleService', (open) => {
  const spine = async (): Promise<Spine> => spineOn(await open());
  const raise = async (s: Spine, startedAt = new Date(Date.now() - 90_000)) => (await s.alerts.create(newAlert({ startedAt }))).alert;

  it('acknowledgeAlert is idempotent per user and audited once; the first ack acknowledges the incident', async () => {
    const s = await spine();
    const a = await raise(s);
    const published: string[] = [];
    s.audit.onAppend((r) => void published.push(r.action));
    expect(await s.service.acknowledgeAlert(OPERATOR, a.id, '10.0.0.1')).toEqual({ ok: true });
    expect(await s.service.acknowledgeAlert(OPERATOR, a.id, '10.0.0.1')).toEqual({ ok: true });
    expect(await s.service.acks(a.id)).toEqual([{ alertId: a.id, by: 'op', role: 'operator', at: expect.any(String) as string }]);
    expect(await countWhere(s, 'audit', 'target', `alert:${a.id}`)).toBe(1);
    expect((await s.audit.list({ action: 'alert.ack' }))[0]).toMatchObject({ actor: 'op', actorId: 'u-op', ip: '10.0.0.1' });
    expect(published).toEqual(['alert.ack']);
    expect(s.acked.map((x) => x.by)).toEqual(['op']);
    expect(await logKinds(s, a.id)).toEqual(['alert.raised', 'alert.acknowledged']);
    const inc = (await s.incidents.forAlert(a.id))!;
    expect(inc.state).toBe('acknowledged');
    expect(inc.events.filter((e) => e.kind === 'state').map((e) => e.actor)).toEqual(['op']);
    expect(await s.service.isSettled(a.id)).toBe(true);

    // Another person's ack is their own: recorded and audited, the incident already acknowledged.
    await s.service.acknowledgeAlert(SECOND_OPERATOR, a.id, null);
    expect((await s.service.acks(a.id)).map((x) => x.by)).toEqual(['op', 'op2']);
    expect(await countWhere(s, 'audit', 'target', `alert:${a.id}`)).toBe(2);
    expect(await logKinds(s, a.id)).toEqual(['alert.raised', 'alert.acknowledged', 'alert.acknowledged']);
    expect((await s.incidents.get(inc.id))!.events.filter((e) => e.kind === 'state')).toHaveLength(1);
    expect((await s.audit.verify()).ok).toBe(true);
  });

  it('escalate() on timeout escalates an unacknowledged alert once: one row, one log event, one history entry, no audit', async () => {
    const s = await spine();
    const a = await raise(s);
    expect(await s.service.isSettled(a.id)).toBe(false);
    expect(await s.service.escalated(a.id)).toBe(false);
    expect(await s.service.escalation(a.id)).toBeNull();
    const ev = await s.service.escalate(a.id, 'timeout', TOLD, null);
    expect(ev).toMatchObject({
      alertId: a.id,
      cause: 'timeout',
      told: TOLD,
      reason: expect.stringMatching(/^no acknowledgement within 9\d s$/),
    });
    expect(ev!.afterS).toBeGreaterThanOrEqual(90);
    // A second pass (a later timer, another replica) returns the same escalation and writes nothing.
    expect(await s.service.escalate(a.id, 'timeout', TOLD, null)).toEqual(ev);
    expect(await s.service.escalate(a.id, 'operator', TOLD, { ...OPERATOR, ip: null })).toEqual(ev);
    expect(await s.service.escalated(a.id)).toBe(true);
    expect(await s.service.escalation(a.id)).toEqual(ev);
    expect(await countWhere(s, 'alert_escalations', 'alert_id', a.id)).toBe(1);
    expect(await logKinds(s, a.id)).toEqual(['alert.raised', 'alert.escalated']);
    expect(s.escalated).toEqual([ev]);
    expect(await num(s.db, sql<{ n: number }>`SELECT count(*) AS n FROM audit`)).toBe(0);
    const inc = (await s.incidents.forAlert(a.id))!;
    expect(inc.events.filter((e) => e.kind === 'escalated').map((e) => e.text)).toEqual([ev!.reason]);
    // The escalation event reaches the alert's rooms, the incident's, and the escalation room.
    const [logged] = (await s.lifecycle.of({ alertId: a.id })).filter((e) => e.kind === 'alert.escalated');
    expect(logged).toMatchObject({ incidentId: inc.id, cameraId: 'cam-1', actor: null, payload: ev });
    expect(logged!.rooms).toEqual(expect.arrayContaining(['alerts:all', 'district:1', 'line:Blue', 'camera:cam-1', 'escalation']));
    // Its ack afterwards is still taken (the liaison answers late) and reaches the escalation room.
    await s.service.acknowledgeAlert(OPERATOR, a.id, null);
    const ackEvent = (await s.lifecycle.of({ alertId: a.id })).at(-1)!;
    expect(ackEvent.kind).toBe('alert.acknowledged');
    expect(ackEvent.rooms).toContain('escalation');
  });

  it('escalate() on timeout after an ack, or after its incident was acknowledged, does nothing', async () => {
    const s = await spine();
    const acked = await raise(s);
    await s.service.acknowledgeAlert(OPERATOR, acked.id, null);
    const head = await s.lifecycle.head();
    expect(await s.service.escalate(acked.id, 'timeout', TOLD, null)).toBeNull();
    expect(await s.lifecycle.head()).toBe(head);
    expect(await s.service.escalated(acked.id)).toBe(false);

    // Acknowledged through its incident (the other alert of it has no ack row of its own).
    const other = await s.alerts.create(newAlert({ cameraId: 'cam-9', startedAt: new Date(Date.now() - 90_000) }));
    const inc = (await s.incidents.forAlert(other.alert.id))!;
    await s.incidents.update(inc.id, { state: 'acknowledged' }, 'op');
    expect(await s.service.acks(other.alert.id)).toEqual([]);
    expect(await s.service.isSettled(other.alert.id)).toBe(true);
    expect(await s.service.escalate(other.alert.id, 'timeout', TOLD, null)).toBeNull();
    expect(s.escalated).toEqual([]);
    expect(await num(s.db, sql<{ n: number }>`SELECT count(*) AS n FROM alert_escalations`)).toBe(0);

    // An operator may still escalate an acknowledged alert, and that is audited with who was told.
    const ev = await s.service.escalate(acked.id, 'operator', TOLD, { ...OPERATOR, ip: '10.0.0.2' });
    expect(ev).toMatchObject({ cause: 'operator', reason: 'escalated by op', told: TOLD });
    expect((await s.audit.list({ action: 'alert.escalate' })).map((r) => [r.actor, r.target, r.ip, r.detail])).toEqual([
      ['op', `alert:${acked.id}`, '10.0.0.2', { told: TOLD }],
    ]);
    expect((await s.lifecycle.of({ alertId: acked.id })).at(-1)).toMatchObject({ kind: 'alert.escalated', actor: 'op' });
    expect(await s.service.escalate('no-such-alert', 'operator', TOLD, { ...OPERATOR, ip: null })).toBeNull();
  });

  it('updateIncident out of "new" acknowledges each alert nobody had, in one audited transaction', async () => {
    const s = await spine();
    const a = await raise(s, new Date(Date.now() - 30_000));
    const b = await raise(s, new Date(Date.now() - 20_000));
    const c = await raise(s, new Date(Date.now() - 10_000));
    const inc = (await s.incidents.forAlert(a.id))!;
    expect((await s.incidents.get(inc.id))!.alertIds).toEqual([a.id, b.id, c.id]);
    // b was acknowledged by someone else first, directly: it keeps that ack only.
    await s.service.acknowledgeAlert(SECOND_OPERATOR, b.id, null);
    // That ack acknowledged the incident; dispatching it acknowledges a and c for the dispatcher.
    s.acked.length = 0;
    const next = await s.service.updateIncident(inc.id, { state: 'dispatched', note: 'unit 12' }, OPERATOR, {
      actorId: OPERATOR.id,
      actor: OPERATOR.username,
      ip: '10.0.0.3',
    });
    expect(next.state).toBe('dispatched');
    expect(s.acked.map((x) => [x.alertId, x.by])).toEqual([
      [a.id, 'op'],
      [c.id, 'op'],
    ]);
    expect((await s.service.acks(b.id)).map((x) => x.by)).toEqual(['op2']);
    const ackEvents = (
      await rows(
        s.db,
        sql<{
          alert_id: string;
          payload: string;
        }>`SELECT alert_id, payload FROM lifecycle_events WHERE kind = 'alert.acknowledged' ORDER BY seq`,
      )
    ).map((r) => [r.alert_id, (JSON.parse(r.payload) as { via: string }).via]);
    expect(ackEvents).toEqual([
      [b.id, 'alert'],
      [a.id, 'incident'],
      [c.id, 'incident'],
    ]);
    const [record] = await s.audit.list({ action: 'incident.update' });
    expect(record).toMatchObject({
      actor: 'op',
      target: `incident:${inc.id}`,
      ip: '10.0.0.3',
      detail: { state: 'dispatched', note: 'unit 12', acknowledgedAlerts: [a.id, c.id] },
    });

    // A change that is not a state change audits without acknowledging anything.
    await s.service.updateIncident(inc.id, { assignee: 'dana' }, OPERATOR, { actor: 'op' });
    expect((await s.audit.list({ action: 'incident.update' }))[0]!.detail).toEqual({ assignee: 'dana' });
  });

  it('an illegal updateIncident leaves no ack, no log event and no audit record behind', async () => {
    const s = await spine();
    const a = await raise(s);
    const inc = (await s.incidents.forAlert(a.id))!;
    await s.service.updateIncident(inc.id, { state: 'resolved' }, OPERATOR, { actor: 'op' });
    const head = await s.lifecycle.head();
    const audited = (await s.audit.head()).seq;
    await expect(s.service.updateIncident(inc.id, { state: 'dispatched' }, SECOND_OPERATOR, { actor: 'op2' })).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(await s.lifecycle.head()).toBe(head);
    expect((await s.audit.head()).seq).toBe(audited);
    expect((await s.service.acks(a.id)).map((x) => x.by)).toEqual(['op']);
    await expect(s.service.updateIncident('no-such', { note: 'x' }, OPERATOR, { actor: 'op' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('escalation() reads an escalation from before the lifecycle log from its row', async () => {
    const s = await spine();
    const a = await raise(s);
    await sql`INSERT INTO alert_escalations (alert_id, at, reason) VALUES (${a.id}, ${'2025-01-01T00:00:00.000Z'}, ${'legacy'})`.execute(
      s.db.as(),
    );
    expect(await s.service.escalation(a.id)).toEqual({ alertId: a.id, at: '2025-01-01T00:00:00.000Z', afterS: 0, reason: 'legacy' });
    expect(await s.service.escalated(a.id)).toBe(true);
    // Escalating it again finds the row: no second escalation, no event.
    expect(await s.service.escalate(a.id, 'timeout', TOLD, null)).toMatchObject({ reason: 'legacy' });
    expect(await logKinds(s, a.id)).toEqual(['alert.raised']);
    expect(s.escalated).toEqual([]);
  });
});
