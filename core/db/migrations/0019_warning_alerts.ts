import type { Migration } from './types';

/**
 * Alerts gain the kinds of the rules that warn before harm: `intrusion` (track bed),
 * `loitering`, `unattended-object`, `person-down` and `crowd-surge`. SQLite cannot change a
 * CHECK, so the table is rebuilt as 0011 did: every row, its seq (the delivery order clients
 * resume from) and its indexes.
 */
export const m0019: Migration = {
  version: 19,
  name: 'warning_alerts',
  up(db) {
    db.exec(`
      CREATE TABLE alerts_new (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        id             TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL CHECK (kind IN ('crowding', 'barrier', 'fight', 'rider-report',
                         'intrusion', 'loitering', 'unattended-object', 'person-down', 'crowd-surge')),
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
      INSERT INTO alerts_new SELECT seq, id, kind, camera_id, camera_name, zone_id, zone_name, score, started_at, ended_at, snapshot_path, track_ids, detail, scope, updated_at FROM alerts;
      DROP TABLE alerts;
      ALTER TABLE alerts_new RENAME TO alerts;
      CREATE INDEX alerts_camera_time ON alerts (camera_id, started_at);
      CREATE INDEX alerts_started ON alerts (started_at);
    `);
  },
};
