import type { AlertAckReply, AlertAcked, AlertEscalated, Incident, IncidentUpdate, User } from '../../contract';
import type { AlertStore } from '../alerts/store';
import type { AuditRecord } from '../../contract';
import type { AuditEntry, AuditTrail } from '../audit/trail';
import { typed, type Executor, type SqlDb } from '../db/sql';
import type { EventBus } from '../events/bus';
import type { IncidentStore } from '../incidents/service';
import type { Logger } from '../logger';
import type { LifecycleLog } from './log';
import type { LifecycleTables } from './tables';

export type Actor = Pick<User, 'id' | 'username' | 'role'>;
export type EscalationCause = 'timeout' | 'operator';

export interface LifecycleServiceDeps {
  db: SqlDb;
  log: Logger;
  bus: EventBus;
  lifecycle: LifecycleLog;
  alerts: AlertStore;
  incidents: IncidentStore;
  audit: AuditTrail;
}

const ACTING_STATES = new Set(['acknowledged', 'dispatched', 'resolved', 'false-alarm']);

/**
 * The acknowledgement and escalation rule, in one place:
 * - acknowledging an alert acknowledges its incident (when nobody had);
 * - moving an incident out of "new" (acknowledged, dispatched, resolved, false alarm)
 *   acknowledges each of its alerts nobody had acknowledged, in the same transaction;
 * - an alert escalates on timeout only when neither it nor its incident was acknowledged,
 *   and its escalation event records who was told and why.
 * Each operation is one transaction holding the log's and the audit chain's serial locks from
 * its start (log before audit): the acks, the incident change, their lifecycle events and the
 * audit record commit together. This service owns alert_acks and alert_escalations;
 * incidents stay behind their repository.
 */
export class LifecycleService {
  constructor(private readonly d: LifecycleServiceDeps) {}

  private k(ex: Executor = this.d.db.as()) {
    return typed<LifecycleTables>(ex);
  }

  async acks(alertId: string): Promise<AlertAcked[]> {
    const rows = await this.k()
      .selectFrom('alert_acks')
      .select(['alert_id', 'username', 'role', 'at'])
      .where('alert_id', '=', alertId)
      // Two acknowledgements in one millisecond: the same order on both databases and every read.
      .orderBy('at')
      .orderBy('username')
      .execute();
    return rows.map((r) => ({ alertId: r.alert_id, by: r.username, role: r.role, at: r.at }));
  }

  async escalation(alertId: string, ex: Executor = this.d.db.as()): Promise<AlertEscalated | null> {
    const r = await this.k(ex)
      .selectFrom('lifecycle_events')
      .select('payload')
      .where('alert_id', '=', alertId)
      .where('kind', '=', 'alert.escalated')
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    if (r) return JSON.parse(r.payload) as AlertEscalated;
    // Escalated before the lifecycle log existed.
    const old = await this.k(ex)
      .selectFrom('alert_escalations')
      .select(['at', 'reason'])
      .where('alert_id', '=', alertId)
      .executeTakeFirst();
    return old ? { alertId, at: old.at, afterS: 0, reason: old.reason } : null;
  }

  async escalated(alertId: string): Promise<boolean> {
    return (
      (await this.k().selectFrom('alert_escalations').select('alert_id').where('alert_id', '=', alertId).executeTakeFirst()) !== undefined
    );
  }

  /**
   * Which of these alerts escalated, in one query per 500 ids (a list of thousands asks once,
   * not once an alert; 500 stays under every database's bound-parameter limit).
   */
  async escalatedAmong(alertIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < alertIds.length; i += 500) {
      const rows = await this.k()
        .selectFrom('alert_escalations')
        .select('alert_id')
        .where('alert_id', 'in', alertIds.slice(i, i + 500))
        .execute();
      for (const r of rows) out.add(r.alert_id);
    }
    return out;
  }

  private async acked(alertId: string, ex: Executor): Promise<boolean> {
    return (
      (await this.k(ex).selectFrom('alert_acks').select('alert_id').where('alert_id', '=', alertId).limit(1).executeTakeFirst()) !==
      undefined
    );
  }

  /** Acknowledged by someone, directly or through its incident: such an alert never escalates on timeout. */
  async isSettled(alertId: string, ex: Executor = this.d.db.as()): Promise<boolean> {
    if (await this.acked(alertId, ex)) return true;
    const inc = await this.d.incidents.forAlert(alertId, ex);
    return inc !== null && ACTING_STATES.has(inc.state);
  }

  /** Inside a transaction: one ack row and its log event; null when this user had already acknowledged. */
  private async ackInTx(alertId: string, user: Actor, at: string, via: 'alert' | 'incident', trx: Executor): Promise<AlertAcked | null> {
    const fresh = await this.k(trx)
      .insertInto('alert_acks')
      .values({ alert_id: alertId, user_id: user.id, username: user.username, role: user.role, at })
      .onConflict((oc) => oc.columns(['alert_id', 'user_id']).doNothing())
      .returning('alert_id')
      .executeTakeFirst();
    if (!fresh) return null;
    const stored = await this.d.alerts.get(alertId, trx);
    const event: AlertAcked = { alertId, by: user.username, role: user.role, at };
    const rooms = stored ? [...(await this.d.alerts.roomsOf(alertId, stored.alert, trx)), 'escalation'] : ['alerts:all', 'escalation'];
    await this.d.lifecycle.append(
      {
        kind: 'alert.acknowledged',
        alertId,
        cameraId: stored?.alert.cameraId ?? null,
        actor: user.username,
        rooms,
        payload: { ...event, via },
      },
      trx,
    );
    return event;
  }

  /** A person acknowledges an alert (visibility is the caller's check). Idempotent per user. */
  async acknowledgeAlert(user: Actor, alertId: string, ip: string | null): Promise<AlertAckReply> {
    const at = new Date().toISOString();
    const r = await this.d.db.transaction(
      async (trx): Promise<{ event: AlertAcked; record: AuditRecord } | null> => {
        const event = await this.ackInTx(alertId, user, at, 'alert', trx);
        if (!event) return null;
        await this.d.incidents.acknowledgeFromAlert(alertId, user.username, trx);
        const record = await this.d.audit.append(
          { actorId: user.id, actor: user.username, action: 'alert.ack', target: `alert:${alertId}`, ip },
          trx,
        );
        return { event, record };
      },
      // A person is waiting: ahead of queued alert writes (core/db/sql.ts, TransactionOptions.urgent).
      { locks: ['log', 'audit'], urgent: true },
    );
    if (r) this.d.audit.published(r.record);
    await this.d.lifecycle.flush();
    if (r) this.d.bus.emit('alert:acked', r.event);
    return { ok: true };
  }

  /** An operator changes an incident; leaving "new" acknowledges its alerts. */
  async updateIncident(id: string, patch: IncidentUpdate, user: Actor, audit: Omit<AuditEntry, 'action' | 'target'>): Promise<Incident> {
    const at = new Date().toISOString();
    const acked: AlertAcked[] = [];
    const { inc, record } = await this.d.db.transaction(
      async (trx) => {
        const next = await this.d.incidents.update(id, patch, user.username, trx);
        if (patch.state !== undefined && ACTING_STATES.has(patch.state)) {
          for (const alertId of await this.d.incidents.alertIds(id, trx)) {
            if (await this.acked(alertId, trx)) continue;
            const ev = await this.ackInTx(alertId, user, at, 'incident', trx);
            if (ev) acked.push(ev);
          }
        }
        const record = await this.d.audit.append(
          {
            ...audit,
            action: 'incident.update',
            target: `incident:${id}`,
            detail: { ...patch, ...(acked.length ? { acknowledgedAlerts: acked.map((a) => a.alertId) } : {}) },
          },
          trx,
        );
        return { inc: next, record };
      },
      { locks: ['log', 'audit'], urgent: true },
    );
    this.d.audit.published(record);
    await this.d.lifecycle.flush();
    for (const a of acked) this.d.bus.emit('alert:acked', a);
    return (await this.d.incidents.get(inc.id)) ?? inc;
  }

  /**
   * Escalates an alert once. On timeout, an alert acknowledged (or whose incident was) does
   * not escalate: null. `told` is who the escalation goes to, recorded in the event. Whether
   * this call is the one that escalates is one conditional write (the escalation row inserted
   * unless one exists), so two replicas racing escalate once.
   */
  async escalate(
    alertId: string,
    cause: EscalationCause,
    told: { rooms: string[]; liaisons: string[] },
    by: (Actor & { ip: string | null }) | null,
  ): Promise<AlertEscalated | null> {
    const at = new Date().toISOString();
    const r = await this.d.db.transaction(
      async (trx): Promise<{ event: AlertEscalated; first: boolean; record: AuditRecord | null } | null> => {
        const stored = await this.d.alerts.get(alertId, trx);
        if (!stored) return null;
        if (cause === 'timeout' && (await this.isSettled(alertId, trx))) return null;
        const reason =
          cause === 'timeout'
            ? `no acknowledgement within ${Math.round((Date.now() - Date.parse(stored.alert.startedAt)) / 1000)} s`
            : `escalated by ${by?.username ?? 'an operator'}`;
        const first = await this.k(trx)
          .insertInto('alert_escalations')
          .values({ alert_id: alertId, at, reason })
          .onConflict((oc) => oc.column('alert_id').doNothing())
          .returning('alert_id')
          .executeTakeFirst();
        if (!first) return { event: (await this.escalation(alertId, trx))!, first: false, record: null };
        const event: AlertEscalated = {
          alertId,
          at,
          afterS: Math.round((Date.now() - Date.parse(stored.alert.startedAt)) / 1000),
          reason,
          cause,
          told,
        };
        const inc = await this.d.incidents.forAlert(alertId, trx);
        await this.d.lifecycle.append(
          {
            kind: 'alert.escalated',
            alertId,
            incidentId: inc?.id ?? null,
            cameraId: stored.alert.cameraId,
            actor: by?.username ?? null,
            rooms: [
              ...(await this.d.alerts.roomsOf(alertId, stored.alert, trx)),
              ...(inc ? await this.d.incidents.rooms(inc.id, trx) : []),
              'escalation',
            ],
            payload: event,
          },
          trx,
        );
        await this.d.incidents.noteEscalation(alertId, reason, trx);
        const record = by
          ? await this.d.audit.append(
              { actorId: by.id, actor: by.username, action: 'alert.escalate', target: `alert:${alertId}`, ip: by.ip, detail: { told } },
              trx,
            )
          : null;
        return { event, first: true, record };
      },
      // An operator's escalation is waited on; a timeout's queues with the alerts.
      { locks: by ? ['log', 'audit'] : ['log'], urgent: by !== null },
    );
    if (r?.record) this.d.audit.published(r.record);
    await this.d.lifecycle.flush();
    if (r?.first) {
      this.d.bus.emit('alert:escalated', r.event);
      this.d.log.info({ alertId, cause, told }, 'alert escalated');
    }
    return r?.event ?? null;
  }
}
