import type { Migration } from './types';

/**
 * Analytics: each camera's zones, and the people counted per zone over time (the
 * console's occupancy chart). Zones belong to their camera and go with it; occupancy is a
 * rolling series (the analytics feature deletes samples older than its retention), one row
 * per zone per sample (about one a second while a camera is analysed).
 */
export const m0005: Migration = {
  version: 5,
  name: 'analytics',
  up(db) {
    db.exec(`
      CREATE TABLE zones (
        camera_id   TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
        id          TEXT NOT NULL,
        position    INTEGER NOT NULL,
        doc         TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (camera_id, id)
      ) STRICT;
      CREATE TABLE occupancy (
        camera_id  TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
        zone_id    TEXT NOT NULL,
        t_ms       INTEGER NOT NULL,
        count      INTEGER NOT NULL CHECK (count >= 0)
      ) STRICT;
      CREATE INDEX occupancy_zone_time ON occupancy (camera_id, zone_id, t_ms);
      CREATE INDEX occupancy_time ON occupancy (t_ms);
    `);
  },
};
