import type { Database } from '../db/database';
import { statementCache } from '../db/statements';
import type { Logger } from '../logger';

/** Every kind of event the lifecycle log records (migration 0009 checks the same list). */
export const LOG_KINDS = [
  'alert.raised',
  'alert.updated',
  'alert.cleared',
  'alert.acknowledged',
  'alert.escalated',
  'incident.created',
  'incident.merged',
  'incident.state',
  'incident.updated',
  'clip.ready',
  'clip.failed',
] as const;
export type LogKind = (typeof LOG_KINDS)[number];

export interface NewLogEvent {
  kind: LogKind;
  alertId?: string | null;
  incidentId?: string | null;
  cameraId?: string | null;
  actor?: string | null;
  /** Who may receive it: the socket rooms of its delivery scope (core/alerts/deliver.ts). */
  rooms: readonly string[];
  payload: unknown;
}

export interface LogEvent {
  seq: number;
  at: string;
  kind: LogKind;
  alertId: string | null;
  incidentId: string | null;
  cameraId: string | null;
  actor: string | null;
  rooms: string[];
  payload: unknown;
}

interface Row {
  seq: number;
  at: string;
  kind: string;
  alert_id: string | null;
  incident_id: string | null;
  camera_id: string | null;
  actor: string | null;
  rooms: string;
  payload: string;
}

function toEvent(r: Row): LogEvent {
  return {
    seq: r.seq,
    at: r.at,
    kind: r.kind as LogKind,
    alertId: r.alert_id,
    incidentId: r.incident_id,
    cameraId: r.camera_id,
    actor: r.actor,
    rooms: JSON.parse(r.rooms) as string[],
    payload: JSON.parse(r.payload) as unknown,
  };
}

export type LogSubscriber = (events: readonly LogEvent[]) => void;

/**
 * The alert lifecycle log (migration 0009): one append-only table, one increasing sequence.
 *
 * Writers append inside the SQLite transaction that makes the change (append refuses to run
 * outside one), so an event exists exactly when its state change does. Readers never get
 * events pushed from the writer: after each commit the log reads what is new after its
 * dispatch cursor and hands it, in sequence order, to each subscriber (socket delivery,
 * incident projection to sockets, escalation timers, the webhook outbox). A subscriber that
 * throws is logged and the others still run, so one failing reader cannot lose an event for
 * the rest or crash the core. Replay after a reconnect and rebuilding timers at start read
 * the same table by cursor.
 */
export class LifecycleLog {
  private readonly insert;
  private readonly afterStmt;
  private readonly headStmt;
  private readonly subscribers: { name: string; fn: LogSubscriber }[] = [];
  /** The last sequence handed to subscribers. Events from before this process started are not re-dispatched. */
  private dispatched: number;
  private flushing = false;
  private flushQueued = false;
  /** This process appended since the last announcement (the other replicas have not heard of it). */
  private appendedHere = false;
  private announcer: ((seq: number) => void) | null = null;
  private readonly q;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {
    this.q = statementCache(db);
    this.insert = db.prepare(
      'INSERT INTO lifecycle_events (at, kind, alert_id, incident_id, camera_id, actor, rooms, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.afterStmt = db.prepare('SELECT * FROM lifecycle_events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.headStmt = db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM lifecycle_events');
    this.dispatched = this.head();
  }

  /** Appends one event. Must run inside the caller's transaction: the event and its change commit together. */
  append(e: NewLogEvent): LogEvent {
    if (!this.db.inTransaction) throw new Error(`lifecycle event ${e.kind} appended outside a transaction`);
    const at = new Date().toISOString();
    const rooms = [...new Set(e.rooms)];
    const info = this.insert.run(
      at,
      e.kind,
      e.alertId ?? null,
      e.incidentId ?? null,
      e.cameraId ?? null,
      e.actor ?? null,
      JSON.stringify(rooms),
      JSON.stringify(e.payload),
    );
    this.appendedHere = true;
    // Dispatch once the surrounding transaction has committed (or found nothing, if it rolled back).
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
    return {
      seq: Number(info.lastInsertRowid),
      at,
      kind: e.kind,
      alertId: e.alertId ?? null,
      incidentId: e.incidentId ?? null,
      cameraId: e.cameraId ?? null,
      actor: e.actor ?? null,
      rooms,
      payload: e.payload,
    };
  }

  /** Events after a cursor, oldest first. */
  after(seq: number, limit: number): LogEvent[] {
    return (this.afterStmt.all(seq, limit) as Row[]).map(toEvent);
  }

  head(): number {
    return (this.headStmt.get() as { seq: number }).seq;
  }

  /** Events of one alert (or one incident), oldest first. */
  of(what: { alertId?: string; incidentId?: string }): LogEvent[] {
    const rows = what.alertId
      ? this.q('SELECT * FROM lifecycle_events WHERE alert_id = ? ORDER BY seq').all(what.alertId)
      : this.q('SELECT * FROM lifecycle_events WHERE incident_id = ? ORDER BY seq').all(what.incidentId ?? '');
    return (rows as Row[]).map(toEvent);
  }

  /** The sequence of an alert's raise (an older client's `lastAlertId` cursor), or null. */
  raisedSeq(alertId: string): number | null {
    const r = this.q("SELECT seq FROM lifecycle_events WHERE alert_id = ? AND kind = 'alert.raised'").get(alertId) as
      { seq: number } | undefined;
    return r?.seq ?? null;
  }

  /** Alerts raised since `sinceIso` that the log shows neither acknowledged nor escalated (timers to rebuild). */
  openForEscalation(sinceIso: string): { alertId: string; startedAtMs: number }[] {
    const rows = this.q(
      `SELECT r.alert_id AS alertId, json_extract(r.payload, '$.startedAt') AS startedAt FROM lifecycle_events r
          WHERE r.kind = 'alert.raised' AND r.at >= ?
            AND NOT EXISTS (SELECT 1 FROM lifecycle_events x WHERE x.alert_id = r.alert_id AND x.kind IN ('alert.acknowledged', 'alert.escalated'))
          ORDER BY r.seq`,
    ).all(sinceIso) as { alertId: string; startedAt: string }[];
    return rows.map((r) => ({ alertId: r.alertId, startedAtMs: Date.parse(r.startedAt) }));
  }

  /**
   * Several replicas share the log (core/cluster): each one's readers get every replica's
   * events, read from the shared table by this same cursor. After a flush that dispatched
   * events appended here, `announcer` tells the others (Redis), who flush at once; `follow`
   * also reads the table every `everyMs`, so an event whose writer died between its commit
   * and its announcement still reaches every reader.
   */
  setAnnouncer(fn: ((seq: number) => void) | null): void {
    this.announcer = fn;
  }

  /** Reads what other replicas committed every `everyMs`. Returns its stop. */
  follow(everyMs: number): () => void {
    const t = setInterval(() => this.flush(), everyMs);
    t.unref();
    return () => clearInterval(t);
  }

  /** Registers a reader of committed events. Returns its unsubscribe. */
  subscribe(name: string, fn: LogSubscriber): () => void {
    const s = { name, fn };
    this.subscribers.push(s);
    return () => {
      const i = this.subscribers.indexOf(s);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }

  /**
   * Hands every committed event after the dispatch cursor to the subscribers. Called after a
   * commit (and by a microtask scheduled at append, so a forgotten call cannot strand an event).
   * Re-entrant calls (a subscriber that writes) are folded into the running loop.
   */
  flush(): void {
    this.flushQueued = false;
    if (this.flushing || this.db.inTransaction) {
      if (this.db.inTransaction && !this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(() => this.flush());
      }
      return;
    }
    this.flushing = true;
    try {
      for (;;) {
        const batch = this.after(this.dispatched, 500);
        if (batch.length === 0) break;
        this.dispatched = batch[batch.length - 1]!.seq;
        for (const s of this.subscribers) {
          try {
            s.fn(batch);
          } catch (err) {
            this.log.error(
              { err, subscriber: s.name, fromSeq: batch[0]!.seq, toSeq: this.dispatched },
              'a lifecycle log reader failed; the others continue',
            );
          }
        }
      }
    } catch (err) {
      // Reading the log failed (disk, SQLITE_BUSY): the cursor did not move; the next commit retries.
      this.log.error({ err }, 'cannot read the lifecycle log');
    } finally {
      this.flushing = false;
    }
    if (this.appendedHere && this.announcer) {
      this.appendedHere = false;
      this.announcer(this.dispatched);
    }
  }
}
