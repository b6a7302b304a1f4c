import type { DetectionFrame, DetectionTrack } from '../../contract/review';
import { typed, type SqlDb } from '../db/sql';
import type { ReviewTables } from './tables';

/** Rows per INSERT: well under SQLite's and Postgres's parameter limits (three a row). */
const CHUNK = 500;

/**
 * The detections a reviewer sees drawn over a clip. Every analysed frame's confirmed tracks
 * are stored, normalised to the frame (0..1) so they overlay a clip of any resolution, and
 * keyed by capture time so they line up with the recording, which is cut from the same
 * capture clock. Writes are batched: at 5 fps per camera, one transaction a second. `record`
 * stays synchronous (it runs per analysed frame) and only buffers.
 */
export class DetectionLog {
  private pending: { cameraId: string; t: number; tracks: string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Flushes run one after another, so a later frame for the same instant wins, as recorded. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: SqlDb,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly flushMs = 1000,
  ) {}

  record(cameraId: string, t: number, tracks: DetectionTrack[]): void {
    const rounded = tracks.map((tr) => ({
      ...tr,
      box: tr.box.map((v) => Math.round(v * 10_000) / 10_000) as DetectionTrack['box'],
      score: Math.round(tr.score * 1000) / 1000,
    }));
    this.pending.push({ cameraId, t: Math.round(t), tracks: JSON.stringify(rounded) });
    this.timer ??= setTimeout(() => void this.flush().catch(this.onError), this.flushMs);
  }

  /** Writes what is buffered; resolves once it (and every earlier flush) is committed. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    // One row per camera and instant: Postgres refuses an upsert that touches a row twice.
    const rows = [
      ...new Map(batch.map((r) => [`${r.cameraId}\u0000${r.t}`, { camera_id: r.cameraId, t_ms: r.t, tracks: r.tracks }])).values(),
    ];
    const run = async (): Promise<void> => {
      if (rows.length === 0) return;
      await this.db.transaction(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK)
          await typed<ReviewTables>(trx)
            .insertInto('detections')
            .values(rows.slice(i, i + CHUNK))
            .onConflict((oc) => oc.columns(['camera_id', 't_ms']).doUpdateSet((eb) => ({ tracks: eb.ref('excluded.tracks') })))
            .execute();
      });
    };
    // A failed flush is reported by its own caller; the next one still runs.
    const p = this.flushing.catch(() => undefined).then(run);
    this.flushing = p;
    return p;
  }

  /** The frames of a camera between two capture times, in order; what is still buffered is written first. */
  async range(cameraId: string, from: number, to: number, limit = 20_000): Promise<DetectionFrame[]> {
    await this.flush();
    const rows = await this.db
      .as<ReviewTables>()
      .selectFrom('detections')
      .select(['t_ms', 'tracks'])
      .where('camera_id', '=', cameraId)
      .where('t_ms', '>=', from)
      .where('t_ms', '<=', to)
      .orderBy('t_ms')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ t: r.t_ms, tracks: JSON.parse(r.tracks) as DetectionTrack[] }));
  }

  /** Drops detections older than the recordings they annotate. */
  async prune(olderThanMs: number): Promise<number> {
    await this.flush();
    const r = await this.db.as<ReviewTables>().deleteFrom('detections').where('t_ms', '<', olderThanMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  close(): Promise<void> {
    return this.flush();
  }
}
