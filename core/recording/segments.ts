import { sql } from 'kysely';
import { rmSync } from 'node:fs';
import type { RecordedSegment, SegmentRow } from '../../analytics/recording/recorder';
import type { SegmentSource } from '../../analytics/recording/clips';
import type { SqlDb } from '../db/sql';
import type { Logger } from '../logger';
import type { HeldRange } from './holds';
import type { RecordingTables } from './tables';

export type { SegmentRow };

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

/** Rows read per query when the budget pass walks every segment oldest first: never all in memory. */
const SWEEP_PAGE = 1000;
/** Ids per DELETE, well under either database's parameter limit. */
const DELETE_CHUNK = 500;

/** The index of recorded segments (table `segments`) and the retention sweep. */
export class SegmentStore implements SegmentSource {
  constructor(
    private readonly db: SqlDb,
    private readonly log: Logger,
  ) {}

  private get k() {
    return this.db.as<RecordingTables>();
  }

  /** Indexes a finished segment; the same file reported again (a node's resend) replaces its row. */
  async add(s: RecordedSegment): Promise<void> {
    await this.k
      .insertInto('segments')
      .values({ camera_id: s.cameraId, path: s.path, start_ms: s.startMs, end_ms: s.endMs, bytes: s.bytes, session: s.session })
      .onConflict((oc) =>
        oc.column('path').doUpdateSet((eb) => ({
          camera_id: eb.ref('excluded.camera_id'),
          start_ms: eb.ref('excluded.start_ms'),
          end_ms: eb.ref('excluded.end_ms'),
          bytes: eb.ref('excluded.bytes'),
          session: eb.ref('excluded.session'),
        })),
      )
      .execute();
  }

  /** Segments of a camera overlapping [fromMs, toMs], oldest first. */
  async overlapping(cameraId: string, fromMs: number, toMs: number): Promise<SegmentRow[]> {
    return this.k
      .selectFrom('segments')
      .select(['id', 'camera_id as cameraId', 'path', 'start_ms as startMs', 'end_ms as endMs', 'bytes', 'session'])
      .where('camera_id', '=', cameraId)
      .where('end_ms', '>', fromMs)
      .where('start_ms', '<', toMs)
      .orderBy('start_ms')
      .orderBy('id')
      .execute();
  }

  list(cameraId: string): Promise<SegmentRow[]> {
    return this.overlapping(cameraId, 0, Number.MAX_SAFE_INTEGER);
  }

  /** Start of the oldest segment kept for a camera (how far back its recording goes), or null. */
  async oldestStartMs(cameraId: string): Promise<number | null> {
    const r = await this.k
      .selectFrom('segments')
      .select((eb) => eb.fn.min('start_ms').as('t'))
      .where('camera_id', '=', cameraId)
      .executeTakeFirst();
    return r?.t ?? null;
  }

  /** Start of the oldest segment kept, per camera that has any. */
  async oldestStartByCamera(): Promise<Map<string, number>> {
    const rows = await this.k
      .selectFrom('segments')
      .select((eb) => ['camera_id', eb.fn.min<number>('start_ms').as('t')])
      .groupBy('camera_id')
      .execute();
    return new Map(rows.map((r) => [r.camera_id, Number(r.t)]));
  }

  async totalBytes(): Promise<number> {
    // sum() of a BIGINT is numeric on Postgres (a string from pg): cast back to an integer.
    const r = await this.k
      .selectFrom('segments')
      .select(sql<number>`CAST(coalesce(sum(bytes), 0) AS BIGINT)`.as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * Deletes segments past the age limit, then the oldest (across all cameras) until the
   * total fits the disk budget. Files first, then the row: a crash in between leaves a row
   * whose file is gone, which the next sweep removes, never an orphan file we forget.
   *
   * A segment overlapping a held range (evidence) is never deleted, by age or by budget:
   * evidence outranks the disk budget, so a hold can push the total over it (logged).
   */
  async sweep(
    policy: RetentionPolicy,
    now = Date.now(),
    held: readonly HeldRange[] = [],
  ): Promise<{ removed: number; freedBytes: number; keptHeld: number }> {
    let removed = 0;
    let freed = 0;
    let keptHeld = 0;
    const byCamera = new Map<string, HeldRange[]>();
    for (const h of held) byCamera.set(h.cameraId, [...(byCamera.get(h.cameraId) ?? []), h]);
    const isHeld = (r: SweepRow): boolean => (byCamera.get(r.camera_id) ?? []).some((h) => r.end_ms > h.fromMs && r.start_ms < h.toMs);
    /** Removes the files of the rows given (held ones are kept), then their rows. */
    const drop = async (rows: readonly SweepRow[]): Promise<void> => {
      const gone: number[] = [];
      for (const r of rows) {
        if (isHeld(r)) {
          keptHeld++;
          continue;
        }
        try {
          rmSync(r.path, { force: true });
        } catch (err) {
          this.log.warn({ err, path: r.path }, 'cannot delete segment file');
          continue;
        }
        gone.push(r.id);
        removed++;
        freed += r.bytes;
      }
      for (let i = 0; i < gone.length; i += DELETE_CHUNK)
        await this.k
          .deleteFrom('segments')
          .where('id', 'in', gone.slice(i, i + DELETE_CHUNK))
          .execute();
    };
    const cols = ['id', 'camera_id', 'path', 'start_ms', 'end_ms', 'bytes'] as const;
    await drop(
      await this.k
        .selectFrom('segments')
        .select(cols)
        .where('end_ms', '<', now - policy.maxAgeMs)
        .orderBy('start_ms')
        .orderBy('id')
        .execute(),
    );
    let total = await this.totalBytes();
    if (total > policy.maxBytes) {
      // Oldest first, a page at a time (keyset on start_ms, id): the budget pass may cover every segment.
      const batch: SweepRow[] = [];
      let after: { start: number; id: number } | null = null;
      walk: while (total > policy.maxBytes) {
        const cursor: { start: number; id: number } | null = after;
        const page: SweepRow[] = await this.k
          .selectFrom('segments')
          .select(cols)
          .$if(cursor !== null, (q) =>
            q.where((eb) =>
              eb.or([eb('start_ms', '>', cursor!.start), eb.and([eb('start_ms', '=', cursor!.start), eb('id', '>', cursor!.id)])]),
            ),
          )
          .orderBy('start_ms')
          .orderBy('id')
          .limit(SWEEP_PAGE)
          .execute();
        for (const r of page) {
          if (total <= policy.maxBytes) break walk;
          if (isHeld(r)) continue;
          batch.push(r);
          total -= r.bytes;
        }
        const last = page.at(-1);
        if (!last || page.length < SWEEP_PAGE) break;
        after = { start: last.start_ms, id: last.id };
      }
      await drop(batch);
      if (total > policy.maxBytes)
        this.log.warn({ totalBytes: total, maxBytes: policy.maxBytes }, 'recordings exceed the disk budget: the rest is held as evidence');
    }
    if (removed) this.log.info({ removed, freedBytes: freed, keptHeld }, 'retention removed old segments');
    return { removed, freedBytes: freed, keptHeld };
  }
}
