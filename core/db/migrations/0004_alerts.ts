import type { Migration } from './types';

/**
 * Alerts raised by analytics (contract/alerts.ts). An alert is evidence: it outlives its
 * camera (camera_id is plain text, no foreign key) and is never deleted by retention.
 * `seq` is the delivery order: clients that reconnect ask for everything after the last
 * seq they saw (at-least-once delivery, de-duplicated by id).
 */
export const m0004: Migration = {
  version: 4,
  name: 'alerts',
  up(db) {
    db.exec(`
      CREATE TABLE alerts (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        id             TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL CHECK (kind IN ('crowding', 'barrier', 'fight')),
        camera_id      TEXT NOT NULL,
        camera_name    TEXT NOT NULL,
        zone_id        TEXT,
        zone_name      TEXT,
        score          REAL NOT NULL,
        started_at     TEXT NOT NULL,
        ended_at       TEXT,
        snapshot_path  TEXT,
        track_ids      TEXT NOT NULL DEFAULT '[]',
        detail         TEXT NOT NULL DEFAULT '{}',
        scope          TEXT NOT NULL,
        updated_at     TEXT NOT NULL
      ) STRICT;
      CREATE INDEX alerts_camera_time ON alerts (camera_id, started_at);
      CREATE INDEX alerts_started ON alerts (started_at);
    `);
  },
};
