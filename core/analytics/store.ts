import { Zone, type OccupancyPoint } from '../../contract/zones';
import type { Database } from '../db/database';

/**
 * Zones per camera and the occupancy series, in SQLite (migration 0005). Zones are stored
 * as their validated JSON document, in the order they were given.
 */
export class ZoneStore {
  constructor(private readonly db: Database) {}

  list(cameraId: string): Zone[] {
    const rows = this.db.prepare('SELECT doc FROM zones WHERE camera_id = ? ORDER BY position').all(cameraId) as { doc: string }[];
    return rows.map((r) => Zone.parse(JSON.parse(r.doc)));
  }

  /** Replaces every zone of a camera in one transaction (the input is already validated). */
  replace(cameraId: string, zones: readonly Zone[]): void {
    const now = new Date().toISOString();
    const del = this.db.prepare('DELETE FROM zones WHERE camera_id = ?');
    const ins = this.db.prepare('INSERT INTO zones (camera_id, id, position, doc, updated_at) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      del.run(cameraId);
      zones.forEach((z, i) => ins.run(cameraId, z.id, i, JSON.stringify(z), now));
    })();
  }
}

export class OccupancyStore {
  private readonly insert;
  constructor(private readonly db: Database) {
    this.insert = db.prepare('INSERT INTO occupancy (camera_id, zone_id, t_ms, count) VALUES (?, ?, ?, ?)');
  }

  add(cameraId: string, tMs: number, counts: Record<string, number>): void {
    this.db.transaction(() => {
      for (const [zone, n] of Object.entries(counts)) this.insert.run(cameraId, zone, Math.round(tMs), n);
    })();
  }

  series(cameraId: string, zoneId: string, sinceMs: number): OccupancyPoint[] {
    const rows = this.db
      .prepare('SELECT t_ms, count FROM occupancy WHERE camera_id = ? AND zone_id = ? AND t_ms >= ? ORDER BY t_ms LIMIT 100000')
      .all(cameraId, zoneId, sinceMs) as { t_ms: number; count: number }[];
    return rows.map((r) => ({ t: new Date(r.t_ms).toISOString(), count: r.count }));
  }

  /** Deletes samples older than the cut-off; returns how many went. */
  sweep(beforeMs: number): number {
    return this.db.prepare('DELETE FROM occupancy WHERE t_ms < ?').run(beforeMs).changes;
  }
}

export type ModelSlotName = 'detector' | 'fight';

/** Model choices made from the console or the API (migration 0017); a missing row means the config's value. */
export class ModelChoiceStore {
  constructor(private readonly db: Database) {}

  slot(slot: ModelSlotName): string | null {
    const r = this.db.prepare('SELECT model FROM analytics_models WHERE slot = ?').get(slot) as { model: string } | undefined;
    return r?.model ?? null;
  }

  setSlot(slot: ModelSlotName, model: string, by: string | null): void {
    this.db
      .prepare(
        'INSERT INTO analytics_models (slot, model, updated_at, updated_by) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (slot) DO UPDATE SET model = excluded.model, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
      )
      .run(slot, model, new Date().toISOString(), by);
  }

  cameras(): Map<string, string> {
    const rows = this.db.prepare('SELECT camera_id, model FROM camera_models').all() as { camera_id: string; model: string }[];
    return new Map(rows.map((r) => [r.camera_id, r.model]));
  }

  setCamera(cameraId: string, model: string | null, by: string | null): void {
    if (model === null) this.db.prepare('DELETE FROM camera_models WHERE camera_id = ?').run(cameraId);
    else
      this.db
        .prepare(
          'INSERT INTO camera_models (camera_id, model, updated_at, updated_by) VALUES (?, ?, ?, ?) ' +
            'ON CONFLICT (camera_id) DO UPDATE SET model = excluded.model, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
        )
        .run(cameraId, model, new Date().toISOString(), by);
  }
}
