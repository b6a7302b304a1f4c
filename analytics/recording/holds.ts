import type { Database } from 'better-sqlite3';

/** A span of one camera's recording that retention must keep. */
export interface HeldRange {
  cameraId: string;
  fromMs: number;
  toMs: number;
}

export interface EvidenceHold extends HeldRange {
  id: number;
  /** 'alert': kept for an alert's evidence (ref = alert id); 'manual': kept by a person (ref = a case reference). */
  kind: 'alert' | 'manual';
  ref: string;
  reason: string;
  createdBy: string | null;
  createdAt: string;
  liftedAt: string | null;
  liftedBy: string | null;
  liftReason: string | null;
}

interface HoldRow {
  id: number;
  camera_id: string;
  from_ms: number;
  to_ms: number;
  kind: 'alert' | 'manual';
  ref: string;
  reason: string;
  created_by: string | null;
  created_at: string;
  lifted_at: string | null;
  lifted_by: string | null;
  lift_reason: string | null;
}

const toHold = (r: HoldRow): EvidenceHold => ({
  id: r.id,
  cameraId: r.camera_id,
  fromMs: r.from_ms,
  toMs: r.to_ms,
  kind: r.kind,
  ref: r.ref,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
  liftedAt: r.lifted_at,
  liftedBy: r.lifted_by,
  liftReason: r.lift_reason,
});

/**
 * Evidence holds (table `evidence_holds`): footage retention keeps. Holds are never deleted,
 * only lifted, so the table is also the record of what was kept and when it was let go.
 */
export class HoldStore {
  constructor(private readonly db: Database) {}

  /** Places a hold; an alert's hold is placed once (a second call returns the first). */
  place(
    h: HeldRange & { kind: 'alert' | 'manual'; ref: string; reason: string; createdBy?: string | null },
    now = new Date(),
  ): EvidenceHold {
    if (h.kind === 'alert') {
      const existing = this.db.prepare("SELECT * FROM evidence_holds WHERE kind = 'alert' AND ref = ?").get(h.ref) as HoldRow | undefined;
      if (existing) return toHold(existing);
    }
    const info = this.db
      .prepare(
        'INSERT INTO evidence_holds (camera_id, from_ms, to_ms, kind, ref, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(h.cameraId, Math.floor(h.fromMs), Math.ceil(h.toMs), h.kind, h.ref, h.reason, h.createdBy ?? null, now.toISOString());
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): EvidenceHold | null {
    const r = this.db.prepare('SELECT * FROM evidence_holds WHERE id = ?').get(id) as HoldRow | undefined;
    return r ? toHold(r) : null;
  }

  active(cameraId?: string): EvidenceHold[] {
    const rows = cameraId
      ? this.db.prepare('SELECT * FROM evidence_holds WHERE lifted_at IS NULL AND camera_id = ? ORDER BY from_ms').all(cameraId)
      : this.db.prepare('SELECT * FROM evidence_holds WHERE lifted_at IS NULL ORDER BY camera_id, from_ms').all();
    return (rows as HoldRow[]).map(toHold);
  }

  /** Holds of one alert (active or lifted). */
  forAlert(alertId: string): EvidenceHold[] {
    return (this.db.prepare("SELECT * FROM evidence_holds WHERE kind = 'alert' AND ref = ?").all(alertId) as HoldRow[]).map(toHold);
  }

  /** Lifts an active hold; returns it, or null when it does not exist or was already lifted. */
  lift(id: number, by: string, reason: string, now = new Date()): EvidenceHold | null {
    const info = this.db
      .prepare('UPDATE evidence_holds SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ? AND lifted_at IS NULL')
      .run(now.toISOString(), by, reason, id);
    return info.changes ? this.get(id) : null;
  }
}

export type AlertClipState = 'pending' | 'ready' | 'failed';

export interface AlertClipLink {
  alertId: string;
  cameraId: string;
  fromMs: number;
  toMs: number;
  state: AlertClipState;
  clipId: string | null;
  sha256: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

interface LinkRow {
  alert_id: string;
  camera_id: string;
  from_ms: number;
  to_ms: number;
  state: AlertClipState;
  clip_id: string | null;
  sha256: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const toLink = (r: LinkRow): AlertClipLink => ({
  alertId: r.alert_id,
  cameraId: r.camera_id,
  fromMs: r.from_ms,
  toMs: r.to_ms,
  state: r.state,
  clipId: r.clip_id,
  sha256: r.sha256,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The clip each alert gets (table `alert_clips`): pending while it is cut, then ready or failed. */
export class AlertClipStore {
  constructor(private readonly db: Database) {}

  /** Records the pending cut; false when the alert already has one (a replayed event). */
  begin(alertId: string, cameraId: string, fromMs: number, toMs: number, now = new Date()): boolean {
    const t = now.toISOString();
    const info = this.db
      .prepare(
        "INSERT OR IGNORE INTO alert_clips (alert_id, camera_id, from_ms, to_ms, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
      )
      .run(alertId, cameraId, Math.floor(fromMs), Math.ceil(toMs), t, t);
    return info.changes > 0;
  }

  ready(alertId: string, clipId: string, sha256: string, now = new Date()): void {
    this.db
      .prepare("UPDATE alert_clips SET state = 'ready', clip_id = ?, sha256 = ?, error = NULL, updated_at = ? WHERE alert_id = ?")
      .run(clipId, sha256, now.toISOString(), alertId);
  }

  failed(alertId: string, error: string, now = new Date()): void {
    this.db
      .prepare("UPDATE alert_clips SET state = 'failed', error = ?, updated_at = ? WHERE alert_id = ?")
      .run(error.slice(0, 2000), now.toISOString(), alertId);
  }

  get(alertId: string): AlertClipLink | null {
    const r = this.db.prepare('SELECT * FROM alert_clips WHERE alert_id = ?').get(alertId) as LinkRow | undefined;
    return r ? toLink(r) : null;
  }

  /** Cuts that were pending when the core stopped: they are retried at start. */
  pending(): AlertClipLink[] {
    return (this.db.prepare("SELECT * FROM alert_clips WHERE state = 'pending' ORDER BY created_at").all() as LinkRow[]).map(toLink);
  }
}
