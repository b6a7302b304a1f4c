import type { DetectionFrame, DetectionTrack } from '../../contract/review';
import type { Database } from '../db/database';

/**
 * The detections a reviewer sees drawn over a clip. Every analysed frame's confirmed tracks
 * are stored, normalised to the frame (0..1) so they overlay a clip of any resolution, and
 * keyed by capture time so they line up with the recording, which is cut from the same
 * capture clock. Writes are batched: at 5 fps per camera, one transaction a second.
 */
export class DetectionLog {
  private pending: { cameraId: string; t: number; tracks: string }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database,
    private readonly flushMs = 1000,
  ) {}

  record(cameraId: string, t: number, tracks: DetectionTrack[]): void {
    const rounded = tracks.map((tr) => ({
      ...tr,
      box: tr.box.map((v) => Math.round(v * 10_000) / 10_000) as DetectionTrack['box'],
      score: Math.round(tr.score * 1000) / 1000,
    }));
    this.pending.push({ cameraId, t: Math.round(t), tracks: JSON.stringify(rounded) });
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const ins = this.db.prepare('INSERT OR REPLACE INTO detections (camera_id, t_ms, tracks) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const r of batch) ins.run(r.cameraId, r.t, r.tracks);
    })();
  }

  range(cameraId: string, from: number, to: number, limit = 20_000): DetectionFrame[] {
    this.flush();
    const rows = this.db
      .prepare('SELECT t_ms, tracks FROM detections WHERE camera_id = ? AND t_ms BETWEEN ? AND ? ORDER BY t_ms LIMIT ?')
      .all(cameraId, from, to, limit) as { t_ms: number; tracks: string }[];
    return rows.map((r) => ({ t: r.t_ms, tracks: JSON.parse(r.tracks) as DetectionTrack[] }));
  }

  /** Drops detections older than the recordings they annotate. */
  prune(olderThanMs: number): number {
    this.flush();
    return this.db.prepare('DELETE FROM detections WHERE t_ms < ?').run(olderThanMs).changes;
  }

  close(): void {
    this.flush();
  }
}
