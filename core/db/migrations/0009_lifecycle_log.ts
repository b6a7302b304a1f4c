import type { Migration } from './types';

/**
 * The alert lifecycle as one append-only log, and the webhook outbox that reads it.
 *
 * `lifecycle_events` records every alert and incident event (raised, updated, acknowledged,
 * escalated, cleared, incident created, merged, state changed, clip ready / failed). It is
 * written in the same transaction as the state change it records, so the log and the state
 * never disagree; `seq` is the cursor every reader (socket delivery, reconnect replay,
 * escalation timers, the outbox) resumes from. `rooms` is the delivery scope the event was
 * recorded with (core/alerts/deliver.ts computes it), so replay filters exactly as live
 * delivery did. Rows are never updated or deleted (triggers refuse it).
 *
 * `incidents.reach` is the union of the delivery scopes of an incident's alerts.
 *
 * `webhook_outbox` holds one delivery per incident event for the dispatch webhook, keyed by
 * the event it carries (its idempotency key), kept until delivered: never dropped.
 */
export const m0009: Migration = {
  version: 9,
  name: 'lifecycle_log',
  up(db) {
    db.exec(`
      CREATE TABLE lifecycle_events (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        at           TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('alert.raised', 'alert.updated', 'alert.cleared', 'alert.acknowledged',
                       'alert.escalated', 'incident.created', 'incident.merged', 'incident.state', 'incident.updated',
                       'clip.ready', 'clip.failed')),
        alert_id     TEXT,
        incident_id  TEXT,
        camera_id    TEXT,
        actor        TEXT,
        rooms        TEXT NOT NULL,
        payload      TEXT NOT NULL,
        CHECK (alert_id IS NOT NULL OR incident_id IS NOT NULL)
      ) STRICT;
      CREATE INDEX lifecycle_events_alert ON lifecycle_events (alert_id, seq) WHERE alert_id IS NOT NULL;
      CREATE INDEX lifecycle_events_incident ON lifecycle_events (incident_id, seq) WHERE incident_id IS NOT NULL;
      CREATE INDEX lifecycle_events_kind_at ON lifecycle_events (kind, at);
      CREATE TRIGGER lifecycle_events_no_update BEFORE UPDATE ON lifecycle_events
        BEGIN SELECT RAISE(ABORT, 'lifecycle_events is append-only'); END;
      CREATE TRIGGER lifecycle_events_no_delete BEFORE DELETE ON lifecycle_events
        BEGIN SELECT RAISE(ABORT, 'lifecycle_events is append-only'); END;

      CREATE TABLE webhook_outbox (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        event_seq     INTEGER NOT NULL UNIQUE REFERENCES lifecycle_events(seq),
        incident_id   TEXT NOT NULL,
        idem_key      TEXT NOT NULL UNIQUE,
        body          TEXT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_at_ms    INTEGER NOT NULL,
        last_error    TEXT,
        delivered_at  TEXT
      ) STRICT;
      -- An incident's reach: the union of its alerts' delivery scopes (every district, line,
      -- route and camera), so a merged incident reaches every liaison one of its alerts did.
      ALTER TABLE incidents ADD COLUMN reach TEXT NOT NULL DEFAULT '{"districts":[],"lines":[],"routes":[],"cameras":[]}';
      UPDATE incidents SET reach = json_object(
        'districts', CASE WHEN json_extract(scope, '$.district') IS NULL THEN json('[]') ELSE json_array(json_extract(scope, '$.district')) END,
        'lines', json(coalesce(json_extract(scope, '$.lines'), '[]')),
        'routes', json(coalesce(json_extract(scope, '$.routes'), '[]')),
        'cameras', json_array(camera_id));
      CREATE INDEX webhook_outbox_pending ON webhook_outbox (incident_id, id) WHERE delivered_at IS NULL;
    `);
  },
};
