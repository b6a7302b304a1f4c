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
