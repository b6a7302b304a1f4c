import { randomUUID } from 'node:crypto';
import type { AlertKind } from '../../contract';
import { Alert, AlertScope } from '../../contract';
import type { AuditRecord } from '../../contract';
import type { AuditEntry, AuditTrail } from '../audit/trail';
import { typed, type Executor, type SqlDb } from '../db/sql';
import type { EventBus } from '../events/bus';
import type { LifecycleLog } from '../lifecycle/log';
import type { Logger } from '../logger';
import { alertRooms } from './rooms';
import type { AlertTables } from './tables';
import type { LifecycleTables } from '../lifecycle/tables';

/** What a producer (an analytics rule, the admin's test alert) supplies for a new alert. */
export interface NewAlert {
  kind: AlertKind;
  cameraId: string;
  cameraName: string;
  zoneId: string | null;
  zoneName: string | null;
  score: number;
  startedAt?: Date;
  /** Absolute path of the JPEG snapshot on disk (served by the alerts routes), or null. */
  snapshotPath: string | null;
  trackIds: number[];
  detail: Alert['detail'];
  scope: AlertScope;
}

export interface AlertChange {
  endedAt?: Date;
  score?: number;
  snapshotPath?: string | null;
  trackIds?: number[];
  /** The new detail, or how to make it from the stored one (read in the change's own transaction). */
  detail?: Alert['detail'] | ((current: Alert['detail']) => Alert['detail']);
}

type Row = Omit<AlertTables['alerts'], 'seq' | 'updated_at'> & { seq: number };

/** An alert with its delivery sequence number (clients resume after the last seq seen). */
export interface StoredAlert {
  seq: number;
  alert: Alert;
  snapshotPath: string | null;
}

export const ALERTS_API = '/api/v1/alerts';

/** Writes inside the alert's own transaction (the incident it joins), through that transaction. */
export type InTxHook = (alert: Alert, trx: Executor) => Promise<void>;

export interface AlertWriteStatus {
  /** Alerts raised by a rule whose write has not succeeded yet (retrying with backoff). */
  pending: number;
  /** Failed write attempts since start (each one retried, never abandoned). */
  failedAttempts: number;
  lastError: string | null;
}

interface PendingWrite {
  input: NewAlert & { id: string };
  /** The alert itself is stored (only changes are waiting). */
  stored: boolean;
  changes: AlertChange[];
  attempts: number;
  timer: NodeJS.Timeout | null;
  /** The attempt under way, if one is. */
  running: Promise<StoredAlert | null> | null;
}

const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 30_000;

export interface AlertStoreDeps {
  db: SqlDb;
  bus: EventBus;
  lifecycle: LifecycleLog;
  audit: AuditTrail;
  log: Logger;
}

/**
 * The one writer of alerts. An alert, its lifecycle event, the incident it joins and its
 * audit record commit in one transaction before anything is published, so whatever a client
 * was told exists survives a crash of the core (the SIGKILL test). Consumers never write
 * alerts; they read the lifecycle log (core/lifecycle/log.ts) or, for in-process reactions,
 * 'alert:raised' / 'alert:updated' on the bus.
 *
 * `raise` / `change` are for producers that must not lose an alert to a failed write (the
 * analytics rules): the id is assigned up front, a failed write is retried with backoff and
 * counted in health, and changes that arrive meanwhile (the rule cleared) are applied after,
 * in order: one alert's writes never run concurrently.
 */
export class AlertStore {
  private readonly db: SqlDb;
  private readonly bus: EventBus;
  private readonly lifecycle: LifecycleLog;
  private readonly trail: AuditTrail;
  private readonly log: Logger;
  private readonly hooks: InTxHook[] = [];
  private readonly pending = new Map<string, PendingWrite>();
  private failedAttempts = 0;
  private lastError: string | null = null;
  private closed = false;

  constructor(deps: AlertStoreDeps) {
    this.db = deps.db;
    this.bus = deps.bus;
    this.lifecycle = deps.lifecycle;
    this.trail = deps.audit;
    this.log = deps.log;
  }

  /** Adds a write that commits with every new alert (the incident service files it). */
  onRaisedInTx(fn: InTxHook): void {
    this.hooks.push(fn);
  }

  async create(input: NewAlert & { id?: string }, opts: { audit?: AuditEntry | ((a: Alert) => AuditEntry) } = {}): Promise<StoredAlert> {
    const id = input.id ?? randomUUID();
    const now = new Date().toISOString();
    const startedAt = (input.startedAt ?? new Date()).toISOString();
    const scope = AlertScope.parse(input.scope);
    // The log's lock first, the audit chain's after it (the fixed order), held to the commit:
    // the incident filing below reads then writes, and no other spine write interleaves.
    const { stored, record } = await this.db.transaction(
      async (trx): Promise<{ stored: StoredAlert; record: AuditRecord | null }> => {
        const row = await typed<AlertTables>(trx)
          .insertInto('alerts')
          .values({
            id,
            kind: input.kind,
            camera_id: input.cameraId,
            camera_name: input.cameraName,
            zone_id: input.zoneId,
            zone_name: input.zoneName,
            score: input.score,
            started_at: startedAt,
            snapshot_path: input.snapshotPath,
            track_ids: JSON.stringify(input.trackIds),
            detail: JSON.stringify(input.detail),
            scope: JSON.stringify(scope),
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        const stored = toStored(row);
        await this.lifecycle.append(
          { kind: 'alert.raised', alertId: id, cameraId: input.cameraId, rooms: alertRooms(stored.alert), payload: stored.alert },
          trx,
        );
        for (const h of this.hooks) await h(stored.alert, trx);
        const record = opts.audit
          ? await this.trail.append(typeof opts.audit === 'function' ? opts.audit(stored.alert) : opts.audit, trx)
          : null;
        return { stored, record };
      },
      { locks: opts.audit ? ['log', 'audit'] : ['log'] },
    );
    if (record) this.trail.published(record);
    await this.lifecycle.flush();
    this.bus.emit('alert:raised', stored.alert);
    return stored;
  }

  async update(id: string, change: AlertChange): Promise<StoredAlert> {
    const next = await this.db.transaction(
      async (trx): Promise<StoredAlert> => {
        const k = typed<AlertTables>(trx);
        const cur = await this.get(id, trx);
        if (!cur) throw new Error(`no alert with id ${id}`);
        const a = cur.alert;
        const detail = typeof change.detail === 'function' ? change.detail(a.detail) : (change.detail ?? a.detail);
        const row = await k
          .updateTable('alerts')
          .set({
            ended_at: change.endedAt ? change.endedAt.toISOString() : a.endedAt,
            score: change.score ?? a.score,
            snapshot_path: change.snapshotPath !== undefined ? change.snapshotPath : cur.snapshotPath,
            track_ids: JSON.stringify(change.trackIds ?? a.trackIds),
            detail: JSON.stringify(detail),
            updated_at: new Date().toISOString(),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        const next = toStored(row);
        const cleared = a.endedAt === null && next.alert.endedAt !== null;
        // Whoever was told about the alert (its scope, the escalation liaisons) hears how it changed.
        await this.lifecycle.append(
          {
            kind: cleared ? 'alert.cleared' : 'alert.updated',
            alertId: id,
            cameraId: a.cameraId,
            rooms: await this.roomsOf(id, next.alert, trx),
            payload: next.alert,
          },
          trx,
        );
        return next;
      },
      { locks: ['log'] },
    );
    await this.lifecycle.flush();
    this.bus.emit('alert:updated', next.alert);
    return next;
  }

  /** Every room an alert's events went to so far (its scope, plus `escalation` once escalated). */
  async roomsOf(id: string, alert: Alert, ex: Executor = this.db.as()): Promise<string[]> {
    const rows = await typed<LifecycleTables>(ex).selectFrom('lifecycle_events').select('rooms').where('alert_id', '=', id).execute();
    return [...new Set([...alertRooms(alert), ...rows.flatMap((r) => JSON.parse(r.rooms) as string[])])];
  }

  /**
   * Stores a producer's alert, retrying a failed write with backoff until it succeeds (or the
   * core shuts down). Returns the alert's id at once, so the producer can clear it later, and
   * the first attempt (the alert, or null when that attempt failed and a retry is scheduled).
   */
  raise(input: NewAlert): { id: string; stored: Promise<StoredAlert | null> } {
    const w: PendingWrite = { input: { ...input, id: randomUUID() }, stored: false, changes: [], attempts: 0, timer: null, running: null };
    this.pending.set(w.input.id, w);
    return { id: w.input.id, stored: this.attempt(w) };
  }

  /** Changes an alert raised with `raise`, behind its pending write or change if there is one. */
  change(id: string, change: AlertChange): void {
    const w = this.pending.get(id);
    if (w) {
      w.changes.push(change);
      return;
    }
    const next: PendingWrite = {
      input: { id } as NewAlert & { id: string },
      stored: true,
      changes: [change],
      attempts: 0,
      timer: null,
      running: null,
    };
    this.pending.set(id, next);
    void this.attempt(next);
  }

  /** Runs one attempt of a pending write (its alert if not stored yet, then its changes in order). Never rejects. */
  private attempt(w: PendingWrite): Promise<StoredAlert | null> {
    if (w.running) return w.running;
    w.running = this.attemptNow(w).finally(() => (w.running = null));
    return w.running;
  }

  private async attemptNow(w: PendingWrite): Promise<StoredAlert | null> {
    const id = w.input.id;
    try {
      let stored: StoredAlert | null = null;
      if (!w.stored) {
        stored = (await this.get(id)) ?? (await this.create(w.input));
        w.stored = true;
      }
      while (w.changes.length) {
        stored = await this.update(id, w.changes[0]!);
        w.changes.shift();
      }
      this.pending.delete(id);
      if (w.attempts > 0) this.log.info({ alertId: id, attempts: w.attempts + 1 }, 'alert stored after retrying');
      return stored ?? (await this.get(id));
    } catch (err) {
      w.attempts++;
      this.noteFailure(err);
      this.log.error(
        { err, alertId: id, attempt: w.attempts },
        w.stored ? 'cannot change an alert; retrying' : 'cannot store an alert; retrying',
      );
      this.schedule(w);
      return null;
    }
  }

  private noteFailure(err: unknown): void {
    this.failedAttempts++;
    this.lastError = err instanceof Error ? err.message : String(err);
  }

  private schedule(w: PendingWrite): void {
    if (this.closed) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(w.attempts, 16));
    w.timer = setTimeout(() => {
      w.timer = null;
      void this.attempt(w);
    }, delay);
    w.timer.unref();
  }

  writeStatus(): AlertWriteStatus {
    // Writes that failed at least once (one in its first attempt is not "pending" yet).
    let pending = 0;
    for (const w of this.pending.values()) if (w.attempts > 0) pending++;
    return { pending, failedAttempts: this.failedAttempts, lastError: this.lastError };
  }

  /** Stops retrying (shutdown): a last attempt for each pending write, then the rest is logged. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.pending.values()]) {
      if (w.timer) clearTimeout(w.timer);
      w.timer = null;
      await w.running;
      if (this.pending.has(w.input.id)) await this.attempt(w);
    }
    if (this.pending.size) this.log.error({ alertIds: [...this.pending.keys()] }, 'alerts still not stored at shutdown');
  }

  async get(id: string, ex: Executor = this.db.as()): Promise<StoredAlert | null> {
    const row = await typed<AlertTables>(ex).selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toStored(row) : null;
  }

  async getBySeq(seq: number): Promise<StoredAlert | null> {
    const row = await this.db.as<AlertTables>().selectFrom('alerts').selectAll().where('seq', '=', seq).executeTakeFirst();
    return row ? toStored(row) : null;
  }

  /** Newest first; `afterSeq` returns alerts inserted after that insert sequence, oldest first. */
  async list(opts: { limit?: number; afterSeq?: number; cameraId?: string; since?: string } = {}): Promise<StoredAlert[]> {
    const limit = Math.min(Math.max(opts.limit ?? 200, 1), 5000);
    const rows = await this.db
      .as<AlertTables>()
      .selectFrom('alerts')
      .selectAll()
      .$if(!!opts.cameraId, (b) => b.where('camera_id', '=', opts.cameraId ?? ''))
      .$if(opts.afterSeq !== undefined, (b) => b.where('seq', '>', opts.afterSeq ?? 0))
      .$if(!!opts.since, (b) => b.where('started_at', '>=', opts.since ?? ''))
      .orderBy('seq', opts.afterSeq !== undefined ? 'asc' : 'desc')
      .limit(limit)
      .execute();
    return rows.map(toStored);
  }
}

function toStored(r: Row): StoredAlert {
  const alert = Alert.parse({
    id: r.id,
    kind: r.kind,
    cameraId: r.camera_id,
    cameraName: r.camera_name,
    zoneId: r.zone_id,
    zoneName: r.zone_name,
    score: r.score,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    snapshotUrl: r.snapshot_path ? `${ALERTS_API}/${encodeURIComponent(r.id)}/snapshot.jpg` : null,
    trackIds: JSON.parse(r.track_ids) as unknown,
    detail: JSON.parse(r.detail) as unknown,
    scope: JSON.parse(r.scope) as unknown,
  });
  return { seq: r.seq, alert, snapshotPath: r.snapshot_path };
}
