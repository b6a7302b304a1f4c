import { Zone, type OccupancyPoint } from '../../contract/zones';
import type { SqlDb } from '../db/sql';
import { typed } from '../db/sql';
import type { AnalyticsTables } from './tables';

/**
 * Zones per camera and the occupancy series (migration 0005). Zones are stored as their
 * validated JSON document, in the order they were given.
 */
export class ZoneStore {
  constructor(private readonly db: SqlDb) {}

  async list(cameraId: string): Promise<Zone[]> {
    const rows = await this.db
      .as<AnalyticsTables>()
      .selectFrom('zones')
      .select('doc')
      .where('camera_id', '=', cameraId)
      .orderBy('position')
      .execute();
    return rows.map((r) => Zone.parse(JSON.parse(r.doc)));
  }

  /** Replaces every zone of a camera in one transaction (the input is already validated). */
  async replace(cameraId: string, zones: readonly Zone[]): Promise<void> {
    const now = new Date().toISOString();
    await this.db.transaction(async (trx) => {
      const t = typed<AnalyticsTables>(trx);
      await t.deleteFrom('zones').where('camera_id', '=', cameraId).execute();
      if (zones.length === 0) return;
      await t
        .insertInto('zones')
        .values(zones.map((z, i) => ({ camera_id: cameraId, id: z.id, position: i, doc: JSON.stringify(z), updated_at: now })))
        .execute();
    });
  }
}

export class OccupancyStore {
  constructor(private readonly db: SqlDb) {}

  /** One sample per zone at `tMs`, in one statement (all or none). */
  async add(cameraId: string, tMs: number, counts: Record<string, number>): Promise<void> {
    const rows = Object.entries(counts).map(([zone, n]) => ({ camera_id: cameraId, zone_id: zone, t_ms: Math.round(tMs), count: n }));
    if (rows.length === 0) return;
    await this.db.as<AnalyticsTables>().insertInto('occupancy').values(rows).execute();
  }

  async series(cameraId: string, zoneId: string, sinceMs: number): Promise<OccupancyPoint[]> {
    const rows = await this.db
      .as<AnalyticsTables>()
      .selectFrom('occupancy')
      .select(['t_ms', 'count'])
      .where('camera_id', '=', cameraId)
      .where('zone_id', '=', zoneId)
      .where('t_ms', '>=', sinceMs)
      .orderBy('t_ms')
      .limit(100_000)
      .execute();
    return rows.map((r) => ({ t: new Date(r.t_ms).toISOString(), count: r.count }));
  }

  /** Deletes samples older than the cut-off; returns how many went. */
  async sweep(beforeMs: number): Promise<number> {
    const r = await this.db.as<AnalyticsTables>().deleteFrom('occupancy').where('t_ms', '<', beforeMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export type ModelSlotName = 'detector' | 'fight';

/** Model choices made from the console or the API (migration 0017); a missing row means the config's value. */
export class ModelChoiceStore {
  constructor(private readonly db: SqlDb) {}

  async slot(slot: ModelSlotName): Promise<string | null> {
    const r = await this.db
      .as<AnalyticsTables>()
      .selectFrom('analytics_models')
      .select('model')
      .where('slot', '=', slot)
      .executeTakeFirst();
    return r?.model ?? null;
  }

  async setSlot(slot: ModelSlotName, model: string, by: string | null): Promise<void> {
    const row = { slot, model, updated_at: new Date().toISOString(), updated_by: by };
    await this.db
      .as<AnalyticsTables>()
      .insertInto('analytics_models')
      .values(row)
      .onConflict((oc) => oc.column('slot').doUpdateSet({ model, updated_at: row.updated_at, updated_by: by }))
      .execute();
  }

  async cameras(): Promise<Map<string, string>> {
    const rows = await this.db.as<AnalyticsTables>().selectFrom('camera_models').select(['camera_id', 'model']).execute();
    return new Map(rows.map((r) => [r.camera_id, r.model]));
  }

  async setCamera(cameraId: string, model: string | null, by: string | null): Promise<void> {
    const t = this.db.as<AnalyticsTables>();
    if (model === null) {
      await t.deleteFrom('camera_models').where('camera_id', '=', cameraId).execute();
      return;
    }
    const at = new Date().toISOString();
    await t
      .insertInto('camera_models')
      .values({ camera_id: cameraId, model, updated_at: at, updated_by: by })
      .onConflict((oc) => oc.column('camera_id').doUpdateSet({ model, updated_at: at, updated_by: by }))
      .execute();
  }
}
