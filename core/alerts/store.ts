import { randomUUID } from 'node:crypto';
import type { AlertKind } from '../../contract';
import { Alert, AlertScope } from '../../contract';
import type { AuditEntry, AuditTrail } from '../audit/trail';
import type { Database } from '../db/database';
import { statementCache } from '../db/statements';
import type { EventBus } from '../events/bus';
import type { LifecycleLog } from '../lifecycle/log';
import type { Logger } from '../logger';
import { alertRooms } from './rooms';

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
  detail?: Alert['detail'];
}

interface Row {
  seq: number;
  id: string;
  kind: string;
  camera_id: string;
  camera_name: string;
  zone_id: string | null;
  zone_name: string | null;
  score: number;
  started_at: string;
  ended_at: string | null;
  snapshot_path: string | null;
  track_ids: string;
  detail: string;
  scope: string;
}

/** An alert with its delivery sequence number (clients resume after the last seq seen). */
export interface StoredAlert {
  seq: number;
  alert: Alert;
  snapshotPath: string | null;
}

export const ALERTS_API = '/api/v1/alerts';

/** Writes inside the alert's own transaction (the incident it joins, its audit record). */
export type InTxHook = (alert: Alert) => void;

export interface AlertWriteStatus {
  /** Alerts raised by a rule whose write has not succeeded yet (retrying with backoff). */
  pending: number;
  /** Failed write attempts since start (each one retried, never abandoned). */
  failedAttempts: number;
  lastError: string | null;
}

interface PendingWrite {
  input: NewAlert & { id: string };
  changes: AlertChange[];
  attempts: number;
  timer: NodeJS.Timeout | null;
}

const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 30_000;

export interface AlertStoreDeps {
  db: Database;
  bus: EventBus;
  lifecycle: LifecycleLog;
  audit: AuditTrail;
  log: Logger;
}

/**
 * The one writer of alerts. An alert, its lifecycle event, the incident it joins and its
 * audit record commit in one SQLite transaction (one fsync) before anything is published,
 * so whatever a client was told exists survives a crash of the core (the SIGKILL test).
 * Consumers never write alerts; they read the lifecycle log (core/lifecycle/log.ts) or, for
 * in-process reactions, 'alert:raised' / 'alert:updated' on the bus.
 *
 * `raise` / `change` are for producers that must not lose an alert to a failed write (the
 * analytics rules): the id is assigned up front, a failed write is retried with backoff and
 * counted in health, and changes that arrive meanwhile (the rule cleared) are applied after.
 */
export class AlertStore {
  private readonly db: Database;
  private readonly bus: EventBus;
  private readonly lifecycle: LifecycleLog;
  private readonly trail: AuditTrail;
  private readonly log: Logger;
  private readonly hooks: InTxHook[] = [];
  private readonly pending = new Map<string, PendingWrite>();
  private failedAttempts = 0;
  private lastError: string | null = null;
  private closed = false;

  private readonly q;

  constructor(deps: AlertStoreDeps) {
    this.db = deps.db;
    this.q = statementCache(deps.db);
    this.bus = deps.bus;
    this.lifecycle = deps.lifecycle;
    this.trail = deps.audit;
    this.log = deps.log;
  }

  /** Adds a write that commits with every new alert (the incident service files it). */
  onRaisedInTx(fn: InTxHook): void {
    this.hooks.push(fn);
  }

  create(input: NewAlert & { id?: string }, opts: { audit?: AuditEntry | ((a: Alert) => AuditEntry) } = {}): StoredAlert {
    const id = input.id ?? randomUUID();
    const now = new Date().toISOString();
    const startedAt = (input.startedAt ?? new Date()).toISOString();
    const scope = AlertScope.parse(input.scope);
    const run = this.db.transaction((): StoredAlert => {
      const info = this.q(
        `INSERT INTO alerts (id, kind, camera_id, camera_name, zone_id, zone_name, score, started_at, snapshot_path, track_ids, detail, scope, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        input.kind,
        input.cameraId,
        input.cameraName,
        input.zoneId,
        input.zoneName,
        input.score,
        startedAt,
        input.snapshotPath,
        JSON.stringify(input.trackIds),
        JSON.stringify(input.detail),
        JSON.stringify(scope),
        now,
      );
      const stored = this.getBySeq(Number(info.lastInsertRowid));
      if (!stored) throw new Error(`alert ${id} vanished after insert`);
      this.lifecycle.append({
        kind: 'alert.raised',
        alertId: id,
        cameraId: input.cameraId,
        rooms: alertRooms(stored.alert),
        payload: stored.alert,
      });
      for (const h of this.hooks) h(stored.alert);
      if (opts.audit) this.trail.appendNow(typeof opts.audit === 'function' ? opts.audit(stored.alert) : opts.audit);
      return stored;
    });
    const stored = run.immediate();
    this.lifecycle.flush();
    this.bus.emit('alert:raised', stored.alert);
    return stored;
  }

  update(id: string, change: AlertChange): StoredAlert {
    const run = this.db.transaction((): StoredAlert => {
      const cur = this.get(id);
      if (!cur) throw new Error(`no alert with id ${id}`);
      const a = cur.alert;
      this.q('UPDATE alerts SET ended_at = ?, score = ?, snapshot_path = ?, track_ids = ?, detail = ?, updated_at = ? WHERE id = ?').run(
        change.endedAt ? change.endedAt.toISOString() : a.endedAt,
        change.score ?? a.score,
        change.snapshotPath !== undefined ? change.snapshotPath : cur.snapshotPath,
        JSON.stringify(change.trackIds ?? a.trackIds),
        JSON.stringify(change.detail ?? a.detail),
        new Date().toISOString(),
        id,
      );
      const next = this.get(id)!;
      const cleared = a.endedAt === null && next.alert.endedAt !== null;
      // Whoever was told about the alert (its scope, the escalation liaisons) hears how it changed.
      this.lifecycle.append({
        kind: cleared ? 'alert.cleared' : 'alert.updated',
        alertId: id,
        cameraId: a.cameraId,
        rooms: this.roomsOf(id, next.alert),
        payload: next.alert,
      });
      return next;
    });
    const next = run.immediate();
    this.lifecycle.flush();
    this.bus.emit('alert:updated', next.alert);
    return next;
  }

  /** Every room an alert's events went to so far (its scope, plus `escalation` once escalated). */
  roomsOf(id: string, alert: Alert): string[] {
    const rows = this.q('SELECT rooms FROM lifecycle_events WHERE alert_id = ?').all(id) as { rooms: string }[];
    return [...new Set([...alertRooms(alert), ...rows.flatMap((r) => JSON.parse(r.rooms) as string[])])];
  }

  /**
   * Stores a producer's alert, retrying a failed write with backoff until it succeeds (or the
   * core shuts down). Returns the alert's id at once, so the producer can clear it later.
   */
  raise(input: NewAlert): { id: string; stored: StoredAlert | null } {
    const w: PendingWrite = { input: { ...input, id: randomUUID() }, changes: [], attempts: 0, timer: null };
    const stored = this.attempt(w);
    return { id: w.input.id, stored };
  }

  /** Changes an alert raised with `raise`, or queues the change behind its pending write. */
  change(id: string, change: AlertChange): void {
    const w = this.pending.get(id);
    if (w) {
      w.changes.push(change);
      return;
    }
    try {
      this.update(id, change);
    } catch (err) {
      this.noteFailure(err);
      // The alert is stored; only this change failed: retry it the same way.
      const retry: PendingWrite = { input: { id } as NewAlert & { id: string }, changes: [change], attempts: 1, timer: null };
      this.pending.set(id, retry);
      this.schedule(retry);
    }
  }

  private attempt(w: PendingWrite): StoredAlert | null {
    const id = w.input.id;
    try {
      let stored = this.get(id) ?? this.create(w.input);
      while (w.changes.length) {
        stored = this.update(id, w.changes[0]!);
        w.changes.shift();
      }
      this.pending.delete(id);
      if (w.attempts > 0) this.log.info({ alertId: id, attempts: w.attempts + 1 }, 'alert stored after retrying');
      return stored;
    } catch (err) {
      w.attempts++;
      this.noteFailure(err);
      this.log.error({ err, alertId: id, attempt: w.attempts }, 'cannot store an alert; retrying');
      this.pending.set(id, w);
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
      this.attempt(w);
    }, delay);
    w.timer.unref();
  }

  writeStatus(): AlertWriteStatus {
    return { pending: this.pending.size, failedAttempts: this.failedAttempts, lastError: this.lastError };
  }

  /** Stops retrying (shutdown): a last attempt for each pending write, then the rest is logged. */
  close(): void {
    this.closed = true;
    for (const w of [...this.pending.values()]) {
      if (w.timer) clearTimeout(w.timer);
      this.attempt(w);
    }
    if (this.pending.size) this.log.error({ alertIds: [...this.pending.keys()] }, 'alerts still not stored at shutdown');
  }

  get(id: string): StoredAlert | null {
    const row = this.q('SELECT * FROM alerts WHERE id = ?').get(id) as Row | undefined;
    return row ? toStored(row) : null;
  }

  getBySeq(seq: number): StoredAlert | null {
    const row = this.q('SELECT * FROM alerts WHERE seq = ?').get(seq) as Row | undefined;
    return row ? toStored(row) : null;
  }

  /** Newest first; `afterSeq` returns alerts inserted after that insert sequence, oldest first. */
  list(opts: { limit?: number; afterSeq?: number; cameraId?: string; since?: string } = {}): StoredAlert[] {
    const limit = Math.min(Math.max(opts.limit ?? 200, 1), 5000);
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.cameraId) {
      where.push('camera_id = ?');
      args.push(opts.cameraId);
    }
    if (opts.afterSeq !== undefined) {
      where.push('seq > ?');
      args.push(opts.afterSeq);
    }
    if (opts.since) {
      where.push('started_at >= ?');
      args.push(opts.since);
    }
    const order = opts.afterSeq !== undefined ? 'ASC' : 'DESC';
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ?`;
    return (this.q(sql).all(...args, limit) as Row[]).map(toStored);
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
