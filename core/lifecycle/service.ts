import type { AlertAckReply, AlertAcked, AlertEscalated, Incident, IncidentUpdate, User } from '../../contract';
import type { AlertStore } from '../alerts/store';
import type { AuditEntry, AuditTrail } from '../audit/trail';
import type { Database } from '../db/database';
import type { EventBus } from '../events/bus';
import type { IncidentStore } from '../incidents/service';
import type { Logger } from '../logger';
import { statementCache } from '../db/statements';
import type { LifecycleLog } from './log';

export type Actor = Pick<User, 'id' | 'username' | 'role'>;
export type EscalationCause = 'timeout' | 'operator';

export interface LifecycleServiceDeps {
  db: Database;
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
 * Each operation is one SQLite transaction: the acks, the incident change, their lifecycle
 * events and the audit record commit together. This service owns alert_acks and
 * alert_escalations; incidents stay behind their repository.
 */
export class LifecycleService {
  private readonly q;
  constructor(private readonly d: LifecycleServiceDeps) {
    this.q = statementCache(d.db);
  }

  acks(alertId: string): AlertAcked[] {
    const rows = this.q('SELECT alert_id, username, role, at FROM alert_acks WHERE alert_id = ? ORDER BY at').all(alertId) as {
      alert_id: string;
      username: string;
      role: string;
      at: string;
    }[];
    return rows.map((r) => ({ alertId: r.alert_id, by: r.username, role: r.role, at: r.at }));
  }

  escalation(alertId: string): AlertEscalated | null {
    const r = this.q("SELECT payload FROM lifecycle_events WHERE alert_id = ? AND kind = 'alert.escalated' ORDER BY seq LIMIT 1").get(
      alertId,
    ) as { payload: string } | undefined;
    if (r) return JSON.parse(r.payload) as AlertEscalated;
    // Escalated before the lifecycle log existed.
    const old = this.q('SELECT at, reason FROM alert_escalations WHERE alert_id = ?').get(alertId) as
      { at: string; reason: string } | undefined;
    return old ? { alertId, at: old.at, afterS: 0, reason: old.reason } : null;
  }

  escalated(alertId: string): boolean {
    return this.q('SELECT 1 FROM alert_escalations WHERE alert_id = ?').get(alertId) !== undefined;
  }

  /** Acknowledged by someone, directly or through its incident: such an alert never escalates on timeout. */
  isSettled(alertId: string): boolean {
    if (this.q('SELECT 1 FROM alert_acks WHERE alert_id = ? LIMIT 1').get(alertId)) return true;
    const inc = this.d.incidents.forAlert(alertId);
    return inc !== null && ACTING_STATES.has(inc.state);
  }

  /** Inside a transaction: one ack row and its log event; null when this user had already acknowledged. */
  private ackInTx(alertId: string, user: Actor, at: string, via: 'alert' | 'incident'): AlertAcked | null {
    const fresh =
      this.q('INSERT OR IGNORE INTO alert_acks (alert_id, user_id, username, role, at) VALUES (?, ?, ?, ?, ?)').run(
        alertId,
        user.id,
        user.username,
        user.role,
        at,
      ).changes > 0;
    if (!fresh) return null;
    const stored = this.d.alerts.get(alertId);
    const event: AlertAcked = { alertId, by: user.username, role: user.role, at };
    const rooms = stored ? [...this.d.alerts.roomsOf(alertId, stored.alert), 'escalation'] : ['alerts:all', 'escalation'];
    this.d.lifecycle.append({
      kind: 'alert.acknowledged',
      alertId,
      cameraId: stored?.alert.cameraId ?? null,
      actor: user.username,
      rooms,
      payload: { ...event, via },
    });
    return event;
  }

  /** A person acknowledges an alert (visibility is the caller's check). Idempotent per user. */
  acknowledgeAlert(user: Actor, alertId: string, ip: string | null): AlertAckReply {
    const at = new Date().toISOString();
    const event = this.d.db
      .transaction((): AlertAcked | null => {
        const ev = this.ackInTx(alertId, user, at, 'alert');
        if (!ev) return null;
        this.d.incidents.acknowledgeFromAlert(alertId, user.username);
        this.d.audit.appendNow({ actorId: user.id, actor: user.username, action: 'alert.ack', target: `alert:${alertId}`, ip });
        return ev;
      })
      .immediate();
    this.d.lifecycle.flush();
    if (event) this.d.bus.emit('alert:acked', event);
    return { ok: true };
  }

  /** An operator changes an incident; leaving "new" acknowledges its alerts. */
  updateIncident(id: string, patch: IncidentUpdate, user: Actor, audit: Omit<AuditEntry, 'action' | 'target'>): Incident {
    const at = new Date().toISOString();
    const acked: AlertAcked[] = [];
    const inc = this.d.db
      .transaction((): Incident => {
        const next = this.d.incidents.update(id, patch, user.username);
        if (patch.state !== undefined && ACTING_STATES.has(patch.state)) {
          for (const alertId of this.d.incidents.alertIds(id)) {
            if (this.q('SELECT 1 FROM alert_acks WHERE alert_id = ? LIMIT 1').get(alertId)) continue;
            const ev = this.ackInTx(alertId, user, at, 'incident');
            if (ev) acked.push(ev);
          }
        }
        this.d.audit.appendNow({
          ...audit,
          action: 'incident.update',
          target: `incident:${id}`,
          detail: { ...patch, ...(acked.length ? { acknowledgedAlerts: acked.map((a) => a.alertId) } : {}) },
        });
        return next;
      })
      .immediate();
    this.d.lifecycle.flush();
    for (const a of acked) this.d.bus.emit('alert:acked', a);
    return this.d.incidents.get(inc.id) ?? inc;
  }

  /**
   * Escalates an alert once. On timeout, an alert acknowledged (or whose incident was) does
   * not escalate: null. `told` is who the escalation goes to, recorded in the event.
   */
  escalate(
    alertId: string,
    cause: EscalationCause,
    told: { rooms: string[]; liaisons: string[] },
    by: (Actor & { ip: string | null }) | null,
  ): AlertEscalated | null {
    const at = new Date().toISOString();
    const r = this.d.db
      .transaction((): { event: AlertEscalated; first: boolean } | null => {
        const stored = this.d.alerts.get(alertId);
        if (!stored) return null;
        if (cause === 'timeout' && this.isSettled(alertId)) return null;
        const reason =
          cause === 'timeout'
            ? `no acknowledgement within ${Math.round((Date.now() - Date.parse(stored.alert.startedAt)) / 1000)} s`
            : `escalated by ${by?.username ?? 'an operator'}`;
        const first =
          this.q('INSERT OR IGNORE INTO alert_escalations (alert_id, at, reason) VALUES (?, ?, ?)').run(alertId, at, reason).changes > 0;
        if (!first) return { event: this.escalation(alertId)!, first: false };
        const event: AlertEscalated = {
          alertId,
          at,
          afterS: Math.round((Date.now() - Date.parse(stored.alert.startedAt)) / 1000),
          reason,
          cause,
          told,
        };
        const inc = this.d.incidents.forAlert(alertId);
        this.d.lifecycle.append({
          kind: 'alert.escalated',
          alertId,
          incidentId: inc?.id ?? null,
          cameraId: stored.alert.cameraId,
          actor: by?.username ?? null,
          rooms: [...this.d.alerts.roomsOf(alertId, stored.alert), ...(inc ? this.d.incidents.rooms(inc.id) : []), 'escalation'],
          payload: event,
        });
        this.d.incidents.noteEscalation(alertId, reason);
        if (by)
          this.d.audit.appendNow({
            actorId: by.id,
            actor: by.username,
            action: 'alert.escalate',
            target: `alert:${alertId}`,
            ip: by.ip,
            detail: { told },
          });
        return { event, first: true };
      })
      .immediate();
    this.d.lifecycle.flush();
    if (r?.first) {
      this.d.bus.emit('alert:escalated', r.event);
      this.d.log.info({ alertId, cause, told }, 'alert escalated');
    }
    return r?.event ?? null;
  }
}
