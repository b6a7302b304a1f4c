import type { Migration } from './types';

/**
 * Rider text reports and published monthly statistics. A rider's number is stored only
 * encrypted (number_enc, AES-256-GCM with a key file outside the database) plus a keyed hash
 * (number_hash, HMAC-SHA256) to find the same rider again, and the last four digits the
 * console shows. Conversations and their messages are deleted after the retention period.
 * A published month keeps the exact bytes that were signed, so the public copy never drifts.
 * Alerts gain the kind `rider-report`: SQLite cannot change a CHECK, so the table is rebuilt
 * with every row, its seq (the delivery order clients resume from) and its indexes.
 */
export const m0011: Migration = {
  version: 11,
  name: 'sms_statistics',
  up(db) {
    db.exec(`
      CREATE TABLE alerts_new (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        id             TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL CHECK (kind IN ('crowding', 'barrier', 'fight', 'rider-report')),
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
      CREATE TABLE sms_numbers (
        number_hash   TEXT PRIMARY KEY,
        number_enc    BLOB NOT NULL,
        last4         TEXT NOT NULL,
        opted_out_at  TEXT,
        blocked_at    TEXT,
        block_reason  TEXT
      ) STRICT;
      CREATE TABLE sms_conversations (
        id               TEXT PRIMARY KEY,
        number_hash      TEXT NOT NULL REFERENCES sms_numbers(number_hash),
        incident_id      TEXT,
        language         TEXT NOT NULL CHECK (language IN ('en', 'es', 'pl', 'zh')),
        location         TEXT NOT NULL,
        cameras          TEXT NOT NULL DEFAULT '[]',
        shared           INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
        created_at       TEXT NOT NULL,
        last_message_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX sms_conversations_number ON sms_conversations (number_hash, last_message_at);
      CREATE INDEX sms_conversations_incident ON sms_conversations (incident_id);
      CREATE TABLE sms_messages (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id  TEXT NOT NULL REFERENCES sms_conversations(id) ON DELETE CASCADE,
        direction        TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        body             TEXT NOT NULL,
        at               TEXT NOT NULL,
        author           TEXT,
        status           TEXT NOT NULL,
        provider_sid     TEXT UNIQUE
      ) STRICT;
      CREATE INDEX sms_messages_conversation ON sms_messages (conversation_id, id);
      CREATE TABLE statistics_published (
        month         TEXT PRIMARY KEY CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
        csv           TEXT NOT NULL,
        html          TEXT NOT NULL,
        manifest      TEXT NOT NULL,
        signature     TEXT NOT NULL,
        published_by  TEXT NOT NULL,
        published_at  TEXT NOT NULL
      ) STRICT;
    `);
  },
};
