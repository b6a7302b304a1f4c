import type { Selectable } from 'kysely';
import { rmSync } from 'node:fs';
import type { ClipCutter, ClipOptions, CutClip } from '../../analytics/recording/clips';
import type { Clip } from '../../contract/cameras';
import type { SqlDb } from '../db/sql';
import type { RecordingTables } from './tables';

type ClipRow = Selectable<RecordingTables['clips']>;

/** A stored clip with its files on disk (kept out of what the API sends). */
export type StoredClip = Clip & { path: string; snapshotPath: string | null };

function toClip(r: ClipRow): Clip {
  return {
    id: r.id,
    cameraId: r.camera_id,
    startAt: new Date(r.start_ms).toISOString(),
    endAt: new Date(r.end_ms).toISOString(),
    durationS: r.duration_s,
    bytes: r.bytes,
    sha256: r.sha256,
    snapshotSha256: r.snapshot_sha256,
    createdAt: r.created_at,
  };
}

/** The clips cut so far (table `clips`), with the SHA-256 of each file taken when it was cut. */
export class ClipStore {
  constructor(private readonly db: SqlDb) {}

  private get k() {
    return this.db.as<RecordingTables>();
  }

  async add(c: CutClip, now = new Date()): Promise<Clip> {
    const row: ClipRow = {
      id: c.id,
      camera_id: c.cameraId,
      path: c.path,
      snapshot_path: c.snapshotPath,
      start_ms: c.startMs,
      end_ms: c.endMs,
      duration_s: c.durationS,
      bytes: c.bytes,
      sha256: c.sha256,
      snapshot_sha256: c.snapshotSha256,
      created_at: now.toISOString(),
    };
    await this.k.insertInto('clips').values(row).execute();
    return toClip(row);
  }

  async get(id: string): Promise<StoredClip | null> {
    const r = await this.k.selectFrom('clips').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { ...toClip(r), path: r.path, snapshotPath: r.snapshot_path } : null;
  }

  /** A camera's clips, newest first. */
  async list(cameraId: string): Promise<Clip[]> {
    const rows = await this.k
      .selectFrom('clips')
      .selectAll()
      .where('camera_id', '=', cameraId)
      .orderBy('start_ms', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(toClip);
  }

  /** Which camera a clip is of (the visibility rule asks this per request), or null when there is no such clip. */
  async cameraOf(clipId: string): Promise<string | null> {
    const r = await this.k.selectFrom('clips').select('camera_id').where('id', '=', clipId).executeTakeFirst();
    return r?.camera_id ?? null;
  }
}

/** Clips: cut from the recording by ffmpeg (analytics/recording/clips.ts), then stored. */
export class Clips {
  constructor(
    private readonly cutter: ClipCutter,
    readonly store: ClipStore,
  ) {}

  async cut(cameraId: string, fromMs: number, toMs: number, opts: ClipOptions): Promise<Clip> {
    const c = await this.cutter.cut(cameraId, fromMs, toMs, opts);
    try {
      return await this.store.add(c);
    } catch (err) {
      // A clip nobody can find takes the space a retry needs.
      rmSync(c.path, { force: true });
      if (c.snapshotPath) rmSync(c.snapshotPath, { force: true });
      throw err;
    }
  }

  get(id: string): Promise<StoredClip | null> {
    return this.store.get(id);
  }

  list(cameraId: string): Promise<Clip[]> {
    return this.store.list(cameraId);
  }
}
