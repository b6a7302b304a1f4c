import type { Database } from 'better-sqlite3';
import { rmSync } from 'node:fs';
import type { Logger } from '../../common/logger';
import type { RecordedSegment } from './recorder';

/** A recorded segment as stored, with its row id. */
export type SegmentRow = RecordedSegment & { id: number };

export interface RetentionPolicy {
  /** Segments older than this are deleted. */
  maxAgeMs: number;
  /** Total bytes of all cameras' segments; above it the oldest go first. */
  maxBytes: number;
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

  totalBytes(): number {
    return (this.db.prepare('SELECT coalesce(sum(bytes), 0) AS n FROM segments').get() as { n: number }).n;
  }

  /**
   * Deletes segments past the age limit, then the oldest (across all cameras) until the
   * total fits the disk budget. Files first, then the row: a crash in between leaves a row
   * whose file is gone, which the next sweep removes, never an orphan file we forget.
   */
  sweep(policy: RetentionPolicy, now = Date.now()): { removed: number; freedBytes: number } {
    let removed = 0;
    let freed = 0;
    const del = this.db.prepare('DELETE FROM segments WHERE id = ?');
    const drop = (r: { id: number; path: string; bytes: number }): void => {
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
    const old = this.db.prepare('SELECT id, path, bytes FROM segments WHERE end_ms < ? ORDER BY start_ms').all(now - policy.maxAgeMs) as Array<{ id: number; path: string; bytes: number }>;
    old.forEach(drop);
    let total = this.totalBytes();
    if (total > policy.maxBytes) {
      const oldest = this.db.prepare('SELECT id, path, bytes FROM segments ORDER BY start_ms').iterate() as IterableIterator<{ id: number; path: string; bytes: number }>;
      const batch: Array<{ id: number; path: string; bytes: number }> = [];
      for (const r of oldest) {
        if (total <= policy.maxBytes) break;
        batch.push(r);
        total -= r.bytes;
      }
      batch.forEach(drop);
    }
    if (removed) this.log.info({ removed, freedBytes: freed }, 'retention removed old segments');
    return { removed, freedBytes: freed };
  }
}
