import type { Migration } from './types';

/**
 * Incidents and liaison acknowledgements. An incident groups alerts (same camera,
 * vehicle or zone within a window); every transition is an event row with its time, so
 * time-to-acknowledge and the full history survive. Acks record who acknowledged which
 * alert; an alert with no ack after N s escalates (escalated_at keeps it from escalating twice).
 */
export const m0007: Migration = {
  version: 7,
  name: 'incidents',
  up(db) {
    db.exec(`
      CREATE TABLE incidents (
        id               TEXT PRIMARY KEY,
        title            TEXT NOT NULL,
        kind             TEXT NOT NULL,
        state            TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'dispatched', 'resolved', 'false-alarm')),
        camera_id        TEXT NOT NULL,
        camera_name      TEXT NOT NULL,
        zone_id          TEXT,
        vehicle_id       TEXT,
        station_id       TEXT,
        scope            TEXT NOT NULL,
        assignee         TEXT,
        links            TEXT NOT NULL DEFAULT '[]',
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        last_alert_at    TEXT NOT NULL,
        acknowledged_at  TEXT,
        dispatched_at    TEXT,
        resolved_at      TEXT
      ) STRICT;
      CREATE INDEX incidents_open ON incidents (state, last_alert_at);
      CREATE TABLE incident_alerts (
        incident_id  TEXT NOT NULL REFERENCES incidents(id),
        alert_id     TEXT NOT NULL UNIQUE,
        PRIMARY KEY (incident_id, alert_id)
      ) STRICT;
      CREATE TABLE incident_events (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id  TEXT NOT NULL REFERENCES incidents(id),
        at           TEXT NOT NULL,
        actor        TEXT,
        kind         TEXT NOT NULL,
        state        TEXT,
        text         TEXT
      ) STRICT;
      CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
      CREATE TABLE alert_acks (
        alert_id     TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        username     TEXT NOT NULL,
        role         TEXT NOT NULL,
        at           TEXT NOT NULL,
        PRIMARY KEY (alert_id, user_id)
      ) STRICT;
      CREATE TABLE alert_escalations (
        alert_id     TEXT PRIMARY KEY,
        at           TEXT NOT NULL,
        reason       TEXT NOT NULL
      ) STRICT;
    `);
  },
};
