import type { Migration } from './types';

/**
 * Review: the detections stored for replay overlays, reviewers' verdicts and
 * notes, and evidence exports.
 *
 * Detections are kept per analysed frame (tracks as compact JSON) and pruned with the
 * recordings they annotate; verdicts, notes and exports are evidence and are never pruned.
 * Verdicts are one per incident (the latest reviewer's call; every change is audited).
 */
export const m0008: Migration = {
  version: 8,
  name: 'review',
  up(db) {
    db.exec(`
      CREATE TABLE detections (
        camera_id  TEXT NOT NULL,
        t_ms       INTEGER NOT NULL,
        tracks     TEXT NOT NULL,
        PRIMARY KEY (camera_id, t_ms)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX detections_t ON detections (t_ms);
      CREATE TABLE verdicts (
        incident_id  TEXT PRIMARY KEY,
        verdict      TEXT NOT NULL CHECK (verdict IN ('true-alarm', 'false-alarm')),
        reason       TEXT NOT NULL,
        by_user      TEXT NOT NULL,
        at           TEXT NOT NULL
      ) STRICT;
      CREATE TABLE review_notes (
        id           TEXT PRIMARY KEY,
        incident_id  TEXT NOT NULL,
        author       TEXT NOT NULL,
        text         TEXT NOT NULL,
        at           TEXT NOT NULL
      ) STRICT;
      CREATE INDEX review_notes_incident ON review_notes (incident_id, at);
      CREATE TABLE evidence_exports (
        id           TEXT PRIMARY KEY,
        incident_id  TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('building', 'ready', 'failed')),
        path         TEXT,
        bytes        INTEGER,
        sha256       TEXT,
        fingerprint  TEXT,
        error        TEXT,
        created_by   TEXT NOT NULL,
        created_at   TEXT NOT NULL
      ) STRICT;
      CREATE INDEX evidence_exports_incident ON evidence_exports (incident_id, created_at);
    `);
  },
};
