import type { Socket } from 'socket.io';
import { z } from 'zod';
import { AlertAckPayload, routes, SocketAuth, type Alert, type AlertAckReply, type AlertAcked, type AlertEscalated, type User } from '../../contract';
import { audit, auditTrail } from '../audit';
import { socketAuth } from '../auth';
import { SentinelError } from '../errors';
import type { CoreContext, Feature, SentinelIo } from '../feature';
import { parseInput } from '../http/errors';
import type { AlertStore } from './store';

/**
 * The only place alerts go onto sockets. Producers (analytics) publish on the domain bus;
 * this module decides who receives what, so scoping (a district-1 liaison never sees
 * district 2) is enforced once, on the server.
 *
 * Rooms: `alerts:all` (operators, reviewers, technicians, admins), `district:<n>`,
 * `line:<code>` and `route:<id>` (liaisons, by their scope), `escalation` (liaisons marked
 * as the next in line). A socket joins its rooms when it connects, from its user.
 *
 * Delivery is at-least-once: every alert is in SQLite before it is pushed; a client that
 * reconnects sends the id of the last alert it saw (handshake `lastAlertId`) and gets
 * everything in its scope after it, in order; clients de-duplicate by id.
 */
export function alertRooms(alert: Alert): string[] {
  const rooms = ['alerts:all'];
  if (alert.scope.district) rooms.push(`district:${alert.scope.district}`);
  for (const l of alert.scope.lines) rooms.push(`line:${l}`);
  for (const r of alert.scope.routes) rooms.push(`route:${r}`);
  return rooms;
}

export function deliverAlert(io: SentinelIo, event: 'alert:raised' | 'alert:updated', alert: Alert): void {
  // io.to([...rooms]) sends once per socket even when a socket is in several of the rooms.
  io.to(alertRooms(alert)).emit(event, alert);
}

/** The alert rooms a user's sockets join. A liaison with an empty scope receives nothing. */
export function roomsForUser(user: Pick<User, 'role' | 'scope'>): string[] {
  if (user.role !== 'liaison') return ['alerts:all'];
  return [
    ...user.scope.districts.map((d) => `district:${d}`),
    ...user.scope.lines.map((l) => `line:${l}`),
    ...user.scope.routes.map((r) => `route:${r}`),
    ...(user.scope.escalation ? ['escalation'] : []),
  ];
}

export function inScope(user: Pick<User, 'role' | 'scope'>, alert: Alert, escalated = false): boolean {
  const mine = new Set(roomsForUser(user));
  if (escalated && mine.has('escalation')) return true;
  return alertRooms(alert).some((r) => mine.has(r));
}

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
/** How many missed alerts a reconnecting client is sent at most (older ones: the REST list). */
const REPLAY_LIMIT = 1000;
/** A liaison's first connection (nothing seen yet) gets the recent alerts in its scope. */
const FIRST_REPLAY = 100;
const FIRST_REPLAY_WINDOW_MS = 12 * 3_600_000;

export class AlertPush {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  constructor(
    private readonly ctx: Pick<CoreContext, 'db' | 'io' | 'bus' | 'log'> & { alerts: AlertStore },
    private readonly escalateAfterMs: number,
  ) {}

  acks(alertId: string): AlertAcked[] {
    return (this.ctx.db.prepare('SELECT alert_id, username, role, at FROM alert_acks WHERE alert_id = ? ORDER BY at').all(alertId) as { alert_id: string; username: string; role: string; at: string }[]).map((r) => ({
      alertId: r.alert_id,
      by: r.username,
      role: r.role,
      at: r.at,
    }));
  }

  escalated(alertId: string): boolean {
    return this.ctx.db.prepare('SELECT 1 FROM alert_escalations WHERE alert_id = ?').get(alertId) !== undefined;
  }

  /** Records an acknowledgement (idempotent per user) and tells everyone who sees the alert. */
  ack(user: User, alertId: string, ip: string | null): AlertAckReply {
    if (user.role !== 'operator' && user.role !== 'liaison' && user.role !== 'admin') return { ok: false, error: `role "${user.role}" does not acknowledge alerts` };
    const stored = this.ctx.alerts.get(alertId);
    if (!stored) return { ok: false, error: `no alert with id ${alertId}` };
    // A liaison may only acknowledge what was sent to them (the same answer as for an unknown id).
    if (user.role === 'liaison' && !inScope(user, stored.alert, this.escalated(alertId))) return { ok: false, error: `no alert with id ${alertId}` };
    const at = new Date().toISOString();
    const fresh = this.ctx.db.prepare('INSERT OR IGNORE INTO alert_acks (alert_id, user_id, username, role, at) VALUES (?, ?, ?, ?, ?)').run(alertId, user.id, user.username, user.role, at).changes > 0;
    if (!fresh) return { ok: true };
    this.cancelEscalation(alertId);
    auditTrail(this.ctx.db).append({ actorId: user.id, actor: user.username, action: 'alert.ack', target: `alert:${alertId}`, ip });
    const event: AlertAcked = { alertId, by: user.username, role: user.role, at };
    this.ctx.io.to([...alertRooms(stored.alert), 'escalation']).emit('alert:acked', event);
    this.ctx.bus.emit('alert:acked', event);
    return { ok: true };
  }

  scheduleEscalation(alert: Alert, delayMs = this.escalateAfterMs): void {
    if (this.timers.has(alert.id)) return;
    const t = setTimeout(() => {
      this.timers.delete(alert.id);
      if (this.acks(alert.id).length === 0) this.escalate(alert.id, `no acknowledgement within ${Math.round(this.escalateAfterMs / 1000)} s`);
    }, Math.max(0, delayMs));
    t.unref();
    this.timers.set(alert.id, t);
  }

  /** Alerts waiting for their escalation deadline (for health and tests). */
  pendingEscalations(): string[] {
    return [...this.timers.keys()];
  }

  cancelEscalation(alertId: string): void {
    const t = this.timers.get(alertId);
    if (t) clearTimeout(t);
    this.timers.delete(alertId);
  }

  /** To the operators (alerts:all) and the next liaisons (`escalation` room), once per alert. */
  escalate(alertId: string, reason: string): AlertEscalated | null {
    const stored = this.ctx.alerts.get(alertId);
    if (!stored) return null;
    this.cancelEscalation(alertId);
    const at = new Date().toISOString();
    const first = this.ctx.db.prepare('INSERT OR IGNORE INTO alert_escalations (alert_id, at, reason) VALUES (?, ?, ?)').run(alertId, at, reason).changes > 0;
    const event: AlertEscalated = { alertId, at, afterS: Math.round((Date.now() - Date.parse(stored.alert.startedAt)) / 1000), reason };
    if (!first) return event;
    // The next liaison has not seen this alert (it was out of their scope): send it first.
    this.ctx.io.to('escalation').except(alertRooms(stored.alert)).emit('alert:raised', stored.alert);
    this.ctx.io.to([...alertRooms(stored.alert), 'escalation']).emit('alert:escalated', event);
    this.ctx.bus.emit('alert:escalated', event);
    this.ctx.log.info({ alertId, reason }, 'alert escalated');
    return event;
  }

  /** After a restart: unacknowledged, unescalated alerts of the last hour get their timers back. */
  rescheduleOpen(): void {
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const ids = this.ctx.db
      .prepare('SELECT id, started_at FROM alerts WHERE started_at >= ? AND id NOT IN (SELECT alert_id FROM alert_acks) AND id NOT IN (SELECT alert_id FROM alert_escalations)')
      .all(since) as { id: string; started_at: string }[];
    for (const r of ids) {
      const a = this.ctx.alerts.get(r.id);
      if (a) this.scheduleEscalation(a.alert, Date.parse(r.started_at) + this.escalateAfterMs - Date.now());
    }
  }

  /** What a (re)connecting socket missed, in its scope, oldest first, with acks and escalations. */
  replay(socket: Socket, user: User, lastAlertId: string | undefined): void {
    // A first connection of an operator's console loads its queue over REST; a liaison's
    // view has no other source, so it gets the recent alerts of its scope.
    if (!lastAlertId && user.role !== 'liaison') return;
    let list;
    if (lastAlertId) {
      const last = this.ctx.alerts.get(lastAlertId);
      if (!last) return;
      list = this.ctx.alerts.list({ afterSeq: last.seq, limit: REPLAY_LIMIT });
    } else {
      const since = Date.now() - FIRST_REPLAY_WINDOW_MS;
      list = this.ctx.alerts
        .list({ limit: FIRST_REPLAY * 5 })
        .filter((s) => Date.parse(s.alert.startedAt) >= since)
        .reverse();
    }
    let sent = 0;
    for (const s of list) {
      const esc = this.escalated(s.alert.id);
      if (!inScope(user, s.alert, esc)) continue;
      if (!lastAlertId && ++sent > FIRST_REPLAY) break;
      socket.emit('alert:raised', s.alert);
      for (const a of this.acks(s.alert.id)) socket.emit('alert:acked', a);
    }
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** The running push service of a core (incidents and the bench reach it through the database). */
export const pushServices = new WeakMap<object, AlertPush>();

export const alertDeliveryFeature: Feature = {
  name: 'alert-delivery',
  register(ctx) {
    const push = new AlertPush(ctx, ctx.config.push.escalateAfterS * 1000);
    pushServices.set(ctx.db, push);
    ctx.io.on('connection', (socket) => {
      const who = socketAuth(socket);
      if (!who) return socket.disconnect(true); // cannot happen: the auth middleware ran first
      void socket.join(roomsForUser(who.user));
      const hs = SocketAuth.safeParse(socket.handshake.auth ?? {});
      push.replay(socket, who.user, hs.success ? hs.data.lastAlertId : undefined);
      socket.on('alert:ack', (payload, ack) => {
        const p = AlertAckPayload.safeParse(payload);
        const reply: AlertAckReply = p.success ? push.ack(who.user, p.data.alertId, socket.handshake.address) : { ok: false, error: `invalid payload: ${p.error.issues[0]?.message ?? 'expected {"alertId": "..."}'}` };
        // A malformed payload gets an error answer (when it asked for one) and nothing else.
        if (typeof ack === 'function') ack(reply);
      });
    });
    ctx.bus.on('alert:raised', (a) => {
      deliverAlert(ctx.io, 'alert:raised', a);
      push.scheduleEscalation(a);
    });
    ctx.bus.on('alert:updated', (a) => deliverAlert(ctx.io, 'alert:updated', a));

    ctx.http.post(routes.alertAck.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const r = push.ack(req.auth!.user, id, req.ip);
      if (!r.ok) throw new SentinelError(r.error, /no alert/.test(r.error) ? 'not_found' : 'forbidden', 'id');
      return r;
    });
    ctx.http.post(routes.alertEscalate.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const e = push.escalate(id, `escalated by ${req.auth!.user.username}`);
      if (!e) throw new SentinelError(`no alert with id ${id}`, 'not_found', 'id');
      audit(ctx.db, req, 'alert.escalate', `alert:${id}`);
      return e;
    });

    push.rescheduleOpen();
    ctx.onClose(() => {
      push.close();
      pushServices.delete(ctx.db);
    });
  },
};
