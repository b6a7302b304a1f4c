import type { Database } from 'better-sqlite3';
import { rmSync } from 'node:fs';
import type { Logger } from '../../common/logger';
import type { HeldRange } from './holds';
import type { RecordedSegment } from './recorder';

/** A recorded segment as stored, with its row id. */
export type SegmentRow = RecordedSegment & { id: number };

export interface RetentionPolicy {
  /** Segments older than this are deleted. */
  maxAgeMs: number;
  /** Total bytes of all cameras' segments; above it the oldest go first. */
  maxBytes: number;
}

interface SweepRow {
  id: number;
  camera_id: string;
  path: string;
  start_ms: number;
  end_ms: number;
  bytes: number;
}

/** The index of recorded segments (SQLite, table `segments`) and the retention sweep. */
export class SegmentStore {
  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  add(s: RecordedSegment): void {
    this.db
      .prepare('INSERT OR REPLACE INTO segments (camera_id, path, start_ms, end_ms, bytes, session) VALUES (?, ?, ?, ?, ?, ?)')
      .run(s.cameraId, s.path, s.startMs, s.endMs, s.bytes, s.session);
  }

  /** Segments of a camera overlapping [fromMs, toMs], oldest first. */
  overlapping(cameraId: string, fromMs: number, toMs: number): SegmentRow[] {
    return this.db
      .prepare(
        'SELECT id, camera_id AS cameraId, path, start_ms AS startMs, end_ms AS endMs, bytes, session FROM segments WHERE camera_id = ? AND end_ms > ? AND start_ms < ? ORDER BY start_ms',
      )
      .all(cameraId, fromMs, toMs) as SegmentRow[];
  }

  list(cameraId: string): SegmentRow[] {
    return this.overlapping(cameraId, 0, Number.MAX_SAFE_INTEGER);
  }

  /** Start of the oldest segment kept for a camera (how far back its recording goes), or null. */
  oldestStartMs(cameraId: string): number | null {
    const r = this.db.prepare('SELECT min(start_ms) AS t FROM segments WHERE camera_id = ?').get(cameraId) as { t: number | null };
    return r.t;
  }

  totalBytes(): number {
    return (this.db.prepare('SELECT coalesce(sum(bytes), 0) AS n FROM segments').get() as { n: number }).n;
  }

  /**
   * Deletes segments past the age limit, then the oldest (across all cameras) until the
   * total fits the disk budget. Files first, then the row: a crash in between leaves a row
   * whose file is gone, which the next sweep removes, never an orphan file we forget.
   *
   * A segment overlapping a held range (evidence) is never deleted, by age or by budget:
   * evidence outranks the disk budget, so a hold can push the total over it (logged).
   */
  sweep(
    policy: RetentionPolicy,
    now = Date.now(),
    held: readonly HeldRange[] = [],
  ): { removed: number; freedBytes: number; keptHeld: number } {
    let removed = 0;
    let freed = 0;
    let keptHeld = 0;
    const byCamera = new Map<string, HeldRange[]>();
    for (const h of held) byCamera.set(h.cameraId, [...(byCamera.get(h.cameraId) ?? []), h]);
    const isHeld = (r: SweepRow): boolean => (byCamera.get(r.camera_id) ?? []).some((h) => r.end_ms > h.fromMs && r.start_ms < h.toMs);
    const del = this.db.prepare('DELETE FROM segments WHERE id = ?');
    const drop = (r: SweepRow): void => {
      if (isHeld(r)) {
        keptHeld++;
        return;
      }
      try {
        rmSync(r.path, { force: true });
      } catch (err) {
        this.log.warn({ err, path: r.path }, 'cannot delete segment file');
        return;
      }
      del.run(r.id);
      removed++;
      freed += r.bytes;
    };
    const cols = 'id, camera_id, path, start_ms, end_ms, bytes';
    const old = this.db.prepare(`SELECT ${cols} FROM segments WHERE end_ms < ? ORDER BY start_ms`).all(now - policy.maxAgeMs) as SweepRow[];
    old.forEach(drop);
    let total = this.totalBytes();
    if (total > policy.maxBytes) {
      const oldest = this.db.prepare(`SELECT ${cols} FROM segments ORDER BY start_ms`).iterate() as IterableIterator<SweepRow>;
      const batch: SweepRow[] = [];
      for (const r of oldest) {
        if (total <= policy.maxBytes) break;
        if (isHeld(r)) continue;
        batch.push(r);
        total -= r.bytes;
      }
      batch.forEach(drop);
      if (total > policy.maxBytes)
        this.log.warn({ totalBytes: total, maxBytes: policy.maxBytes }, 'recordings exceed the disk budget: the rest is held as evidence');
    }
    if (removed) this.log.info({ removed, freedBytes: freed, keptHeld }, 'retention removed old segments');
    return { removed, freedBytes: freed, keptHeld };
  }
}
