import type { Migration } from '../../../common/node/migration';

/**
 * Recorded segments (the rolling buffer, pruned by age and disk budget) and clips cut from
 * them. A clip's SHA-256 is stored with it so evidence can be verified later. Segments go
 * with their camera; clips are evidence and outlive a deleted camera (camera_id is kept as
 * plain text, without a foreign key).
 */
export const m0003: Migration = {
  version: 3,
  name: 'recordings',
  up(db) {
    db.exec(`
      CREATE TABLE segments (
        id          INTEGER PRIMARY KEY,
        camera_id   TEXT NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
        path        TEXT NOT NULL UNIQUE,
        start_ms    INTEGER NOT NULL,
        end_ms      INTEGER NOT NULL,
        bytes       INTEGER NOT NULL,
        session     INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX segments_camera_time ON segments (camera_id, start_ms);
      CREATE INDEX segments_start ON segments (start_ms);
      CREATE TABLE clips (
        id               TEXT PRIMARY KEY,
        camera_id        TEXT NOT NULL,
        path             TEXT NOT NULL,
        snapshot_path    TEXT,
        start_ms         INTEGER NOT NULL,
        end_ms           INTEGER NOT NULL,
        duration_s       REAL NOT NULL,
        bytes            INTEGER NOT NULL,
        sha256           TEXT NOT NULL,
        snapshot_sha256  TEXT,
        created_at       TEXT NOT NULL
      ) STRICT;
      CREATE INDEX clips_camera ON clips (camera_id, start_ms);
    `);
  },
};
