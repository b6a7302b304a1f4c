import { sql, type Selectable } from 'kysely';
import { typed, type Executor, type SqlDb } from '../db/sql';
import type { RecordingTables } from './tables';

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

type HoldRow = Selectable<RecordingTables['evidence_holds']>;

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
  constructor(private readonly db: SqlDb) {}

  /**
   * Places a hold; an alert's hold is placed once (a second call returns the first, also when
   * two replicas place it at the same moment: the unique index on alert refs decides).
   */
  async place(
    h: HeldRange & { kind: 'alert' | 'manual'; ref: string; reason: string; createdBy?: string | null },
    now = new Date(),
    ex: Executor = this.db.as(),
  ): Promise<EvidenceHold> {
    const k = typed<RecordingTables>(ex);
    const row = {
      camera_id: h.cameraId,
      from_ms: Math.floor(h.fromMs),
      to_ms: Math.ceil(h.toMs),
      kind: h.kind,
      ref: h.ref,
      reason: h.reason,
      created_by: h.createdBy ?? null,
      created_at: now.toISOString(),
    };
    if (h.kind === 'manual') return toHold(await k.insertInto('evidence_holds').values(row).returningAll().executeTakeFirstOrThrow());
    // The conflict target names the partial unique index (kind, ref) WHERE kind = 'alert'; its
    // predicate is a literal, as in the index (a bound parameter does not match it on SQLite).
    const placed = await k
      .insertInto('evidence_holds')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['kind', 'ref'])
          .where(sql<boolean>`kind = 'alert'`)
          .doNothing(),
      )
      .returningAll()
      .executeTakeFirst();
    if (placed) return toHold(placed);
    const first = await k
      .selectFrom('evidence_holds')
      .selectAll()
      .where('kind', '=', 'alert')
      .where('ref', '=', h.ref)
      .executeTakeFirstOrThrow();
    return toHold(first);
  }

  async get(id: number, ex: Executor = this.db.as()): Promise<EvidenceHold | null> {
    const r = await typed<RecordingTables>(ex).selectFrom('evidence_holds').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toHold(r) : null;
  }

  /** Active holds (of one camera, or all), by camera then start. */
  async active(cameraId?: string): Promise<EvidenceHold[]> {
    const rows = await this.db
      .as<RecordingTables>()
      .selectFrom('evidence_holds')
      .selectAll()
      .where('lifted_at', 'is', null)
      .$if(cameraId !== undefined, (q) => q.where('camera_id', '=', cameraId ?? ''))
      .orderBy('camera_id')
      .orderBy('from_ms')
      .orderBy('id')
      .execute();
    return rows.map(toHold);
  }

  /** The newest holds, active or lifted, newest first. */
  async recent(limit = 1000): Promise<EvidenceHold[]> {
    const rows = await this.db.as<RecordingTables>().selectFrom('evidence_holds').selectAll().orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toHold);
  }

  /** Holds of one alert (active or lifted). */
  async forAlert(alertId: string): Promise<EvidenceHold[]> {
    const rows = await this.db
      .as<RecordingTables>()
      .selectFrom('evidence_holds')
      .selectAll()
      .where('kind', '=', 'alert')
      .where('ref', '=', alertId)
      .orderBy('id')
      .execute();
    return rows.map(toHold);
  }

  /**
   * Lifts an active hold; returns it, or null when it does not exist or was already lifted.
   * `ex`: the caller's transaction, when the lift commits with its audit record.
   */
  async lift(id: number, by: string, reason: string, now = new Date(), ex: Executor = this.db.as()): Promise<EvidenceHold | null> {
    const r = await typed<RecordingTables>(ex)
      .updateTable('evidence_holds')
      .set({ lifted_at: now.toISOString(), lifted_by: by, lift_reason: reason })
      .where('id', '=', id)
      .where('lifted_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return r ? toHold(r) : null;
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

type LinkRow = Selectable<RecordingTables['alert_clips']>;

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
  constructor(private readonly db: SqlDb) {}

  private get k() {
    return this.db.as<RecordingTables>();
  }

  /** Records the pending cut; false when the alert already has one (a replayed event). */
  async begin(alertId: string, cameraId: string, fromMs: number, toMs: number, now = new Date()): Promise<boolean> {
    const t = now.toISOString();
    const r = await this.k
      .insertInto('alert_clips')
      .values({
        alert_id: alertId,
        camera_id: cameraId,
        from_ms: Math.floor(fromMs),
        to_ms: Math.ceil(toMs),
        state: 'pending',
        created_at: t,
        updated_at: t,
      })
      .onConflict((oc) => oc.column('alert_id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async ready(alertId: string, clipId: string, sha256: string, now = new Date()): Promise<void> {
    await this.k
      .updateTable('alert_clips')
      .set({ state: 'ready', clip_id: clipId, sha256, error: null, updated_at: now.toISOString() })
      .where('alert_id', '=', alertId)
      .execute();
  }

  async failed(alertId: string, error: string, now = new Date()): Promise<void> {
    await this.k
      .updateTable('alert_clips')
      .set({ state: 'failed', error: error.slice(0, 2000), updated_at: now.toISOString() })
      .where('alert_id', '=', alertId)
      .execute();
  }

  async get(alertId: string): Promise<AlertClipLink | null> {
    const r = await this.k.selectFrom('alert_clips').selectAll().where('alert_id', '=', alertId).executeTakeFirst();
    return r ? toLink(r) : null;
  }

  /** Cuts that were pending when the core stopped: they are retried at start. */
  async pending(): Promise<AlertClipLink[]> {
    const rows = await this.k
      .selectFrom('alert_clips')
      .selectAll()
      .where('state', '=', 'pending')
      .orderBy('created_at')
      .orderBy('alert_id')
      .execute();
    return rows.map(toLink);
  }
}
