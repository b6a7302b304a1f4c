import { randomUUID } from 'node:crypto';
import type { AlertKind} from '../../contract';
import { Alert, AlertScope } from '../../contract';
import type { Database } from '../db/database';
import type { EventBus } from '../events/bus';

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

/**
 * The one writer of alerts. An alert is committed to SQLite before it is published on the
 * domain bus, so whatever a client was told exists survives a crash of the core (the
 * incidents issue tests this with SIGKILL). Consumers never write alerts; they react to
 * 'alert:raised' / 'alert:updated'.
 */
export class AlertStore {
  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
  ) {}

  create(input: NewAlert): StoredAlert {
    const id = randomUUID();
    const now = new Date().toISOString();
    const startedAt = (input.startedAt ?? new Date()).toISOString();
    const scope = AlertScope.parse(input.scope);
    const info = this.db
      .prepare(
        `INSERT INTO alerts (id, kind, camera_id, camera_name, zone_id, zone_name, score, started_at, snapshot_path, track_ids, detail, scope, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, input.kind, input.cameraId, input.cameraName, input.zoneId, input.zoneName, input.score, startedAt, input.snapshotPath, JSON.stringify(input.trackIds), JSON.stringify(input.detail), JSON.stringify(scope), now);
    const stored = this.getBySeq(Number(info.lastInsertRowid));
    if (!stored) throw new Error(`alert ${id} vanished after insert`);
    this.bus.emit('alert:raised', stored.alert);
    return stored;
  }

  update(id: string, change: AlertChange): StoredAlert {
    const cur = this.get(id);
    if (!cur) throw new Error(`no alert with id ${id}`);
    const a = cur.alert;
    this.db
      .prepare('UPDATE alerts SET ended_at = ?, score = ?, snapshot_path = ?, track_ids = ?, detail = ?, updated_at = ? WHERE id = ?')
      .run(
        change.endedAt ? change.endedAt.toISOString() : a.endedAt,
        change.score ?? a.score,
        change.snapshotPath !== undefined ? change.snapshotPath : cur.snapshotPath,
        JSON.stringify(change.trackIds ?? a.trackIds),
        JSON.stringify(change.detail ?? a.detail),
        new Date().toISOString(),
        id,
      );
    const next = this.get(id)!;
    this.bus.emit('alert:updated', next.alert);
    return next;
  }

  get(id: string): StoredAlert | null {
    const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as Row | undefined;
    return row ? toStored(row) : null;
  }

  getBySeq(seq: number): StoredAlert | null {
    const row = this.db.prepare('SELECT * FROM alerts WHERE seq = ?').get(seq) as Row | undefined;
    return row ? toStored(row) : null;
  }

  /** Newest first; `afterSeq` returns what a reconnecting client missed, oldest first. */
  list(opts: { limit?: number; afterSeq?: number; cameraId?: string } = {}): StoredAlert[] {
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
    const order = opts.afterSeq !== undefined ? 'ASC' : 'DESC';
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, limit) as Row[]).map(toStored);
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
