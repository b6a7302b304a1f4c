import type { Socket } from 'socket.io';
import { z } from 'zod';
import {
  AlertAckPayload,
  routes,
  SocketAuth,
  type Alert,
  type AlertAckReply,
  type AlertAcked,
  type AlertEscalated,
  type AlertsResync,
  type Incident,
  type User,
} from '../../contract';
import { actorOf } from '../audit';
import { socketAuth, type AuthContext } from '../auth';
import { SentinelError } from '../errors';
import type { Feature, SentinelIo } from '../feature';
import { parseInput } from '../http/errors';
import type { IncidentStore } from '../incidents/service';
import type { LifecycleLog, LogEvent } from '../lifecycle/log';
import type { EscalationCause, LifecycleService } from '../lifecycle/service';
import type { Logger } from '../logger';
import { alertRooms, inScope, reaches, roomsForUser } from './rooms';
import type { AlertStore, StoredAlert } from './store';

export { alertRooms, inScope, reachOf, reaches, reachRooms, roomsForUser, unionReach, type Reach } from './rooms';

/**
 * The only place alerts and incidents go onto sockets. Everything it sends comes from the
 * lifecycle log (core/lifecycle/log.ts), read by cursor after each commit, to the rooms the
 * event was recorded with (core/alerts/rooms.ts: scoping is decided once, on the server).
 * Each event carries its log sequence as a second argument.
 *
 * Delivery is at-least-once: every event is committed before it is pushed; a client that
 * reconnects sends the highest sequence it saw (handshake `lastSeq`; older clients
 * `lastAlertId`) and gets every event in its scope after it, in order: raises, updates,
 * clears, acknowledgements, escalations and its incidents. An unknown or too old cursor gets
 * the current state instead (`alerts:resync`), never silence. Clients de-duplicate by id.
 */
export function deliverAlert(io: SentinelIo, event: 'alert:raised' | 'alert:updated', alert: Alert, seq: number): void {
  // io.to([...rooms]) sends once per socket even when a socket is in several of the rooms.
  io.to(alertRooms(alert)).emit(event, alert, seq);
}

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
/** How many missed events a reconnecting client is replayed at most; further behind, it is resynced. */
export const REPLAY_LIMIT = 5000;
/** A liaison's first connection (nothing seen yet) gets the recent alerts in its scope. */
const FIRST_REPLAY = 100;
const RECENT_WINDOW_MS = 12 * 3_600_000;
/** Escalation timers are rebuilt at start for alerts raised this recently. */
const REBUILD_WINDOW_MS = 3_600_000;

export interface AlertPushDeps {
  io: SentinelIo;
  log: Logger;
  lifecycle: LifecycleLog;
  alerts: AlertStore;
  incidents: IncidentStore;
  service: LifecycleService;
}

type Cursor = { kind: 'none' } | { kind: 'seq'; seq: number } | { kind: 'unknown'; reason: string };

export class AlertPush {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private unsubscribe: (() => void) | null = null;
  /** Whether escalation timers run in this process (its lease, core/cluster; always alone). */
  private timersOwned = false;
  constructor(
    private readonly d: AlertPushDeps,
    private readonly escalateAfterMs: number,
  ) {}

  /** Starts reading the log: live delivery to this process's sockets (and timers, once owned). */
  start(): void {
    this.unsubscribe = this.d.lifecycle.subscribe('socket delivery', (events) => this.deliver(events));
  }

  /** This process now runs the escalation timers (its lease): rebuilt from the log. */
  ownTimers(): void {
    this.timersOwned = true;
    void this.rebuildTimers().catch((err: unknown) => this.d.log.error({ err }, 'cannot rebuild the escalation timers'));
  }

  /** Another process runs them now (this one lost the lease). */
  dropTimers(): void {
    this.timersOwned = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  acks(alertId: string): Promise<AlertAcked[]> {
    return this.d.service.acks(alertId);
  }

  escalated(alertId: string): Promise<boolean> {
    return this.d.service.escalated(alertId);
  }

  /**
   * Live delivery: each committed event to its rooms, then each touched incident once, current.
   * To this process's sockets only (`io.local`): with several replicas every one reads the
   * shared log and serves its own sockets, so an event reaches each socket once, also when
   * the replica that wrote it died right after its commit (the Redis adapter would instead
   * lose what the dead replica had not yet broadcast, until its clients reconnected).
   */
  private async deliver(events: readonly LogEvent[]): Promise<void> {
    const io = this.d.io.local;
    const incidents = new Map<string, LogEvent>();
    for (const e of events) {
      switch (e.kind) {
        case 'alert.raised':
          io.to(e.rooms).emit('alert:raised', e.payload as Alert, e.seq);
          this.scheduleEscalation(e.alertId!, Date.parse((e.payload as Alert).startedAt));
          break;
        case 'alert.updated':
        case 'alert.cleared':
          io.to(e.rooms).emit('alert:updated', e.payload as Alert, e.seq);
          break;
        case 'alert.acknowledged':
          this.cancelEscalation(e.alertId!);
          io.to(e.rooms).emit('alert:acked', ackOf(e), e.seq);
          break;
        case 'alert.escalated': {
          this.cancelEscalation(e.alertId!);
          const stored = await this.d.alerts.get(e.alertId!);
          // The next liaison has not seen this alert (it was out of their scope): send it first.
          if (stored) io.to('escalation').except(alertRooms(stored.alert)).emit('alert:raised', stored.alert, e.seq);
          io.to(e.rooms).emit('alert:escalated', e.payload as AlertEscalated, e.seq);
          break;
        }
        default:
          break;
      }
      if (e.incidentId) incidents.set(e.incidentId, e);
    }
    for (const [id, e] of incidents) {
      const inc = await this.d.incidents.get(id);
      if (inc) io.to(await this.d.incidents.rooms(id)).emit('incident:upsert', inc, e.seq);
    }
  }

  /** A person acknowledges an alert they were sent; refused (as unknown) outside their scope. */
  async ack(user: User, alertId: string, ip: string | null): Promise<AlertAckReply> {
    if (user.role !== 'operator' && user.role !== 'liaison' && user.role !== 'admin')
      return { ok: false, error: `role "${user.role}" does not acknowledge alerts` };
    const stored = await this.d.alerts.get(alertId);
    if (!stored) return { ok: false, error: `no alert with id ${alertId}` };
    // A liaison may only acknowledge what was sent to them (the same answer as for an unknown id).
    if (user.role === 'liaison' && !inScope(user, stored.alert, await this.escalated(alertId)))
      return { ok: false, error: `no alert with id ${alertId}` };
    return this.d.service.acknowledgeAlert(user, alertId, ip);
  }

  /** Who an escalation reaches now: its rooms, and the liaisons connected in them on any replica (the adapter asks them). */
  private async told(alert: Alert): Promise<{ rooms: string[]; liaisons: string[] }> {
    const rooms = [...new Set([...(await this.d.alerts.roomsOf(alert.id, alert)).filter((r) => r !== 'alerts:all'), 'escalation'])];
    const liaisons = new Set<string>();
    let sockets: { data: unknown }[] = [];
    try {
      sockets = await this.d.io.in(rooms).fetchSockets();
    } catch (err) {
      // A replica that does not answer in time: escalate anyway, naming whom we could see.
      this.d.log.warn({ err, alertId: alert.id }, "cannot list every replica's sockets; the escalation names the liaisons known here");
      sockets = await this.d.io.local.in(rooms).fetchSockets();
    }
    for (const s of sockets) {
      const who = (s.data as { auth?: AuthContext }).auth;
      if (who?.user.role === 'liaison') liaisons.add(who.user.username);
    }
    return { rooms: ['alerts:all', ...rooms], liaisons: [...liaisons].sort() };
  }

  /**
   * To the operators and the next liaisons (`escalation` room), once per alert: the service's
   * transaction records it only if no one did before (any replica), so two replicas that both
   * try escalate it once.
   */
  async escalate(
    alertId: string,
    cause: EscalationCause,
    by: (Pick<User, 'id' | 'username' | 'role'> & { ip: string | null }) | null = null,
  ): Promise<AlertEscalated | null> {
    const stored = await this.d.alerts.get(alertId);
    if (!stored) return null;
    this.cancelEscalation(alertId);
    const told = await this.told(stored.alert);
    return this.d.service.escalate(alertId, cause, told, by);
  }

  private scheduleEscalation(alertId: string, startedAtMs: number): void {
    if (!this.timersOwned || this.timers.has(alertId)) return;
    const t = setTimeout(
      () => {
        this.timers.delete(alertId);
        this.escalate(alertId, 'timeout').catch((err: unknown) => this.d.log.error({ err, alertId }, 'cannot escalate an alert'));
      },
      Math.max(0, startedAtMs + this.escalateAfterMs - Date.now()),
    );
    t.unref();
    this.timers.set(alertId, t);
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

  /** After a restart: alerts raised in the last hour that the log shows neither acknowledged nor escalated. */
  private async rebuildTimers(): Promise<void> {
    const since = new Date(Date.now() - REBUILD_WINDOW_MS).toISOString();
    for (const r of await this.d.lifecycle.openForEscalation(since)) {
      if (!(await this.d.service.isSettled(r.alertId))) this.scheduleEscalation(r.alertId, r.startedAtMs);
    }
  }

  private async cursorOf(socket: Socket): Promise<Cursor> {
    const hs = SocketAuth.safeParse(socket.handshake.auth ?? {});
    if (!hs.success) return { kind: 'none' };
    const head = await this.d.lifecycle.head();
    if (hs.data.lastSeq !== undefined) {
      if (hs.data.lastSeq > head) return { kind: 'unknown', reason: `cursor ${hs.data.lastSeq} is ahead of the log (${head})` };
      return { kind: 'seq', seq: hs.data.lastSeq };
    }
    if (hs.data.lastAlertId) {
      const seq = await this.d.lifecycle.raisedSeq(hs.data.lastAlertId);
      return seq === null ? { kind: 'unknown', reason: `unknown alert ${hs.data.lastAlertId}` } : { kind: 'seq', seq };
    }
    return { kind: 'none' };
  }

  /** What a (re)connecting socket missed, in its scope, oldest first. */
  async replay(socket: Socket, user: User): Promise<void> {
    const cursor = await this.cursorOf(socket);
    if (cursor.kind === 'none') {
      // An operator's console loads its queue over REST; a liaison's view has no other source.
      if (user.role === 'liaison') await this.replayRecent(socket, user);
      return;
    }
    if (cursor.kind === 'unknown') return this.resync(socket, user, cursor.reason);
    const events = await this.d.lifecycle.after(cursor.seq, REPLAY_LIMIT + 1);
    if (events.length > REPLAY_LIMIT) return this.resync(socket, user, `cursor ${cursor.seq} is more than ${REPLAY_LIMIT} events behind`);
    const sentRaise = new Set<string>();
    const incidents = new Map<string, number>();
    for (const e of events) {
      if (!reaches(user, e.rooms)) continue;
      if (e.kind === 'alert.raised') sentRaise.add(e.alertId!);
      if (e.kind === 'alert.escalated' && !sentRaise.has(e.alertId!)) {
        const a = await this.d.alerts.get(e.alertId!);
        if (a && !inScope(user, a.alert)) socket.emit('alert:raised', a.alert, e.seq);
      }
      this.emitOne(socket, e);
      if (e.incidentId) incidents.set(e.incidentId, e.seq);
    }
    for (const [id, seq] of incidents) {
      const inc = await this.d.incidents.get(id);
      if (inc) socket.emit('incident:upsert', inc, seq);
    }
  }

  private emitOne(socket: Socket, e: LogEvent): void {
    if (e.kind === 'alert.raised') socket.emit('alert:raised', e.payload as Alert, e.seq);
    else if (e.kind === 'alert.updated' || e.kind === 'alert.cleared') socket.emit('alert:updated', e.payload as Alert, e.seq);
    else if (e.kind === 'alert.acknowledged') socket.emit('alert:acked', ackOf(e), e.seq);
    else if (e.kind === 'alert.escalated') socket.emit('alert:escalated', e.payload as AlertEscalated, e.seq);
  }

  /** Alerts of the recent window that this user may see, oldest first, in their current state. */
  private async recentInScope(user: User, max: number): Promise<StoredAlert[]> {
    const since = new Date(Date.now() - RECENT_WINDOW_MS).toISOString();
    const recent = await this.d.alerts.list({ limit: 5000, since });
    // In scope needs no read; the out-of-scope ones ask, in one query, whether they escalated.
    const outside = user.scope.escalation ? recent.filter((s) => !inScope(user, s.alert, false)).map((s) => s.alert.id) : [];
    const escalated = outside.length ? await this.d.service.escalatedAmong(outside) : new Set<string>();
    return recent
      .filter((s) => inScope(user, s.alert, escalated.has(s.alert.id)))
      .slice(0, max)
      .reverse();
  }

  private async replayRecent(socket: Socket, user: User): Promise<void> {
    const head = await this.d.lifecycle.head();
    const incidents = new Map<string, Incident>();
    for (const s of await this.recentInScope(user, FIRST_REPLAY)) {
      socket.emit('alert:raised', s.alert, head);
      for (const a of await this.acks(s.alert.id)) socket.emit('alert:acked', a, head);
      const esc = await this.d.service.escalation(s.alert.id);
      if (esc) socket.emit('alert:escalated', esc, head);
      const inc = await this.d.incidents.forAlert(s.alert.id);
      if (inc && !incidents.has(inc.id) && reaches(user, await this.d.incidents.rooms(inc.id))) incidents.set(inc.id, inc);
    }
    // Their incidents too: a liaison's card shows the clip and the vehicle from it, and a clip
    // cut before the page opened would otherwise read "not cut yet" until the incident changed.
    for (const inc of incidents.values()) socket.emit('incident:upsert', inc, head);
  }

  /** The current state of this user's scope, when its cursor cannot be replayed. */
  async resync(socket: Socket, user: User, reason: string): Promise<void> {
    const cursor = await this.d.lifecycle.head();
    const alerts = await this.recentInScope(user, 500);
    const incidents: Incident[] = [];
    for (const i of await this.d.incidents.list({ open: true, limit: 500 }))
      if (reaches(user, await this.d.incidents.rooms(i.id))) incidents.push(i);
    const acks: AlertAcked[] = [];
    const escalations: AlertEscalated[] = [];
    for (const s of alerts) {
      acks.push(...(await this.acks(s.alert.id)));
      const esc = await this.d.service.escalation(s.alert.id);
      if (esc) escalations.push(esc);
    }
    const payload: AlertsResync = { cursor, reason, alerts: alerts.map((s) => s.alert), acks, escalations, incidents };
    socket.emit('alerts:resync', payload);
  }

  close(): void {
    this.unsubscribe?.();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

function ackOf(e: LogEvent): AlertAcked {
  const p = e.payload as AlertAcked & { via?: string };
  return { alertId: p.alertId, by: p.by, role: p.role, at: p.at };
}

/** Socket handlers and REST routes of alert delivery; the push service is built in core/lifecycle (wired in core/app.ts). */
export const alertDeliveryFeature: Feature = {
  name: 'alert-delivery',
  register(ctx) {
    const push = ctx.lifecycle.push;
    ctx.io.on('connection', (socket) => {
      const who = socketAuth(socket);
      if (!who) return socket.disconnect(true); // cannot happen: the auth middleware ran first
      void socket.join(roomsForUser(who.user));
      const replay = async (): Promise<void> => {
        try {
          await push.replay(socket, who.user);
        } catch (err) {
          ctx.log.error({ err, user: who.user.username }, 'replay failed; sending the current state');
          await push.resync(socket, who.user, 'replay failed');
        }
      };
      void replay().catch((err: unknown) => ctx.log.error({ err, user: who.user.username }, 'cannot send the current state'));
      socket.on('alert:ack', (payload, ack) => {
        const p = AlertAckPayload.safeParse(payload);
        const answer = async (): Promise<AlertAckReply> =>
          p.success
            ? push.ack(who.user, p.data.alertId, socket.handshake.address)
            : { ok: false, error: `invalid payload: ${p.error.issues[0]?.message ?? 'expected {"alertId": "..."}'}` };
        // A malformed payload gets an error answer (when it asked for one) and nothing else.
        void answer()
          .catch((err: unknown): AlertAckReply => {
            ctx.log.error({ err, user: who.user.username }, 'cannot acknowledge an alert');
            return { ok: false, error: 'the acknowledgement could not be stored; try again' };
          })
          .then((reply) => {
            if (typeof ack === 'function') ack(reply);
          });
      });
    });

    ctx.http.post(routes.alertAck.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const r = await push.ack(req.auth!.user, id, req.ip);
      if (!r.ok) throw new SentinelError(r.error, /no alert/.test(r.error) ? 'not_found' : 'forbidden', 'id');
      return r;
    });
    ctx.http.post(routes.alertEscalate.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const user = req.auth!.user;
      const e = await push.escalate(id, 'operator', { id: user.id, username: user.username, role: user.role, ip: actorOf(req).ip ?? null });
      if (!e) throw new SentinelError(`no alert with id ${id}`, 'not_found', 'id');
      return e;
    });
    push.start();
    // Exactly one replica runs the timers; another takes them over when it dies.
    ctx.cluster.leases.job('escalation', () => {
      push.ownTimers();
      return () => push.dropTimers();
    });
    ctx.onClose(() => push.close());
  },
};
