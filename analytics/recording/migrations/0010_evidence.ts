import type { Migration } from '../../../common/node/migration';

/**
 * Automatic evidence: the clip each alert gets cut (its state, hash or error), and evidence
 * holds, the footage retention must keep.
 *
 * `alert_clips` is the link between an alert and its clip, owned by the recording side so
 * that the alert and incident tables are never written from here. `evidence_holds` are time
 * ranges of one camera's recording; a hold stays active until it is lifted (by the system
 * once nothing refers to it any more, or by a person), and a lifted hold keeps who, when and
 * why, next to the audit trail's record of it.
 */
export const m0010: Migration = {
  version: 10,
  name: 'evidence',
  up(db) {
    db.exec(`
      CREATE TABLE alert_clips (
        alert_id    TEXT PRIMARY KEY,
        camera_id   TEXT NOT NULL,
        from_ms     INTEGER NOT NULL,
        to_ms       INTEGER NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'failed')),
        clip_id     TEXT,
        sha256      TEXT,
        error       TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        CHECK (state <> 'ready' OR (clip_id IS NOT NULL AND sha256 IS NOT NULL)),
        CHECK (state <> 'failed' OR error IS NOT NULL)
      ) STRICT;
      CREATE INDEX alert_clips_clip ON alert_clips (clip_id);
      CREATE TABLE evidence_holds (
        id          INTEGER PRIMARY KEY,
        camera_id   TEXT NOT NULL,
        from_ms     INTEGER NOT NULL,
        to_ms       INTEGER NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('alert', 'manual')),
        ref         TEXT NOT NULL,
        reason      TEXT NOT NULL,
        created_by  TEXT,
        created_at  TEXT NOT NULL,
        lifted_at   TEXT,
        lifted_by   TEXT,
        lift_reason TEXT,
        CHECK (to_ms > from_ms),
        CHECK ((lifted_at IS NULL) = (lift_reason IS NULL))
      ) STRICT;
      CREATE INDEX evidence_holds_active ON evidence_holds (camera_id, from_ms) WHERE lifted_at IS NULL;
      CREATE UNIQUE INDEX evidence_holds_ref ON evidence_holds (kind, ref) WHERE kind = 'alert';
    `);
  },
};
