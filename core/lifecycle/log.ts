import { sql } from 'kysely';
import { takeSerialLocks, typed, type Executor, type SqlDb } from '../db/sql';
import type { Logger } from '../logger';
import type { LifecycleTables } from './tables';

/** Events read per query when dispatching. */
const DISPATCH_BATCH = 500;

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

type Row = Omit<LifecycleTables['lifecycle_events'], 'seq'> & { seq: number };

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

/** A reader of committed events. A reader must not await a write that appends to the log (it would wait for itself). */
export type LogSubscriber = (events: readonly LogEvent[]) => void | Promise<void>;

/**
 * The alert lifecycle log (migration 0009): one append-only table, one increasing sequence.
 *
 * Writers append inside the transaction that makes the change (append takes that
 * transaction), so an event exists exactly when its state change does. The append takes the
 * log's serial lock first (Postgres; SQLite's immediate transaction serialises writers
 * already), so sequence order is commit order and a reader moving its cursor past a seq
 * never skips a smaller one committed later (docs/scale.md, "Two guarantees"). Readers never
 * get events pushed from the writer: after each commit the log reads what is new after its
 * dispatch cursor and hands it, in sequence order, to each subscriber (socket delivery,
 * escalation timers, the webhook outbox). A subscriber that throws is logged and the others
 * still run, so one failing reader cannot lose an event for the rest or crash the core.
 * Replay after a reconnect and rebuilding timers at start read the same table by cursor.
 */
export class LifecycleLog {
  private readonly subscribers: { name: string; fn: LogSubscriber }[] = [];
  /** The last sequence handed to subscribers. Events from before this process started are not re-dispatched. */
  private dispatched = 0;
  private readonly ready: Promise<void>;
  private flushing: Promise<void> | null = null;
  /** Callers waiting for the next dispatch pass that starts after their call. */
  private nextPass: Array<() => void> = [];
  /** This process appended since the last announcement (the other replicas have not heard of it). */
  private appendedHere = false;
  private announcer: ((seq: number) => void) | null = null;

  constructor(
    private readonly db: SqlDb,
    private readonly log: Logger,
  ) {
    this.ready = this.head().then(
      (seq) => void (this.dispatched = seq),
      (err: unknown) => this.log.error({ err }, 'cannot read the lifecycle log head; dispatching from the start'),
    );
  }

  /** Appends one event inside the caller's transaction: the event and its change commit together. */
  async append(e: NewLogEvent, trx: Executor): Promise<LogEvent> {
    await takeSerialLocks(trx, this.db.dialect, ['log']);
    const at = new Date().toISOString();
    const rooms = [...new Set(e.rooms)];
    const { seq } = await typed<LifecycleTables>(trx)
      .insertInto('lifecycle_events')
      .values({
        at,
        kind: e.kind,
        alert_id: e.alertId ?? null,
        incident_id: e.incidentId ?? null,
        camera_id: e.cameraId ?? null,
        actor: e.actor ?? null,
        rooms: JSON.stringify(rooms),
        payload: JSON.stringify(e.payload),
      })
      .returning('seq')
      .executeTakeFirstOrThrow();
    this.appendedHere = true;
    return {
      seq,
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
  async after(seq: number, limit: number): Promise<LogEvent[]> {
    const rows = await this.db
      .as<LifecycleTables>()
      .selectFrom('lifecycle_events')
      .selectAll()
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  async head(): Promise<number> {
    const r = await this.db
      .as<LifecycleTables>()
      .selectFrom('lifecycle_events')
      .select(sql<number>`coalesce(max(seq), 0)`.as('seq'))
      .executeTakeFirstOrThrow();
    return Number(r.seq);
  }

  /** Events of one alert (or one incident), oldest first. */
  async of(what: { alertId?: string; incidentId?: string }, ex: Executor = this.db.as()): Promise<LogEvent[]> {
    const k = typed<LifecycleTables>(ex).selectFrom('lifecycle_events').selectAll();
    const rows = await (what.alertId ? k.where('alert_id', '=', what.alertId) : k.where('incident_id', '=', what.incidentId ?? ''))
      .orderBy('seq')
      .execute();
    return rows.map(toEvent);
  }

  /** The sequence of an alert's raise (an older client's `lastAlertId` cursor), or null. */
  async raisedSeq(alertId: string): Promise<number | null> {
    const r = await this.db
      .as<LifecycleTables>()
      .selectFrom('lifecycle_events')
      .select('seq')
      .where('alert_id', '=', alertId)
      .where('kind', '=', 'alert.raised')
      .executeTakeFirst();
    return r?.seq ?? null;
  }

  /** Alerts raised since `sinceIso` that the log shows neither acknowledged nor escalated (timers to rebuild). */
  async openForEscalation(sinceIso: string): Promise<{ alertId: string; startedAtMs: number }[]> {
    const k = this.db.as<LifecycleTables>();
    const rows = await k
      .selectFrom('lifecycle_events as r')
      .select(['r.alert_id', 'r.payload'])
      .where('r.kind', '=', 'alert.raised')
      .where('r.at', '>=', sinceIso)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('lifecycle_events as x')
              .select('x.seq')
              .whereRef('x.alert_id', '=', 'r.alert_id')
              .where('x.kind', 'in', ['alert.acknowledged', 'alert.escalated']),
          ),
        ),
      )
      .orderBy('r.seq')
      .execute();
    // The raise's payload is the alert; its start is read here rather than with a JSON function of one dialect.
    return rows.map((r) => ({
      alertId: r.alert_id ?? '',
      startedAtMs: Date.parse((JSON.parse(r.payload) as { startedAt: string }).startedAt),
    }));
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
    const t = setInterval(() => void this.flush(), everyMs);
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
   * Hands every committed event after the dispatch cursor to the subscribers, in order. Called
   * by each writer after its commit, by `follow` and on an announcement. Resolves once a pass
   * that started after the call has ended, so the caller's own committed events have been
   * dispatched; never later. (Resolving only when the flushing stopped would hold every writer
   * of a burst until the whole burst was dispatched: on Postgres 200 alerts all answered after
   * the last.) Never rejects.
   */
  flush(): Promise<void> {
    const done = new Promise<void>((resolve) => this.nextPass.push(resolve));
    this.flushing ??= (async () => {
      try {
        await this.ready;
        while (this.nextPass.length > 0) {
          const waiting = this.nextPass.splice(0);
          await this.dispatch();
          for (const resolve of waiting) resolve();
        }
      } finally {
        this.flushing = null;
      }
    })();
    return done;
  }

  private async dispatch(): Promise<void> {
    const announce = this.appendedHere;
    this.appendedHere = false;
    try {
      for (;;) {
        const batch = await this.after(this.dispatched, DISPATCH_BATCH);
        if (batch.length === 0) break;
        this.dispatched = batch[batch.length - 1]!.seq;
        for (const s of this.subscribers) {
          try {
            await s.fn(batch);
          } catch (err) {
            this.log.error(
              { err, subscriber: s.name, fromSeq: batch[0]!.seq, toSeq: this.dispatched },
              'a lifecycle log reader failed; the others continue',
            );
          }
        }
        // A short batch had everything committed when it was read: the pass ends there, so a
        // steady stream of new commits cannot keep one pass (and its waiters) going.
        if (batch.length < DISPATCH_BATCH) break;
      }
    } catch (err) {
      // Reading the log failed (disk, a lost connection): the cursor did not move; the next flush retries.
      this.log.error({ err }, 'cannot read the lifecycle log');
    }
    if (announce && this.announcer) this.announcer(this.dispatched);
  }
}
