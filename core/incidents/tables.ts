import type { Generated } from 'kysely';

/** The tables the incidents feature owns (Postgres: 0020_baseline.ts), as stored. */
export interface IncidentTables {
  incidents: {
    id: string;
    title: string;
    kind: string;
    state: string;
    camera_id: string;
    camera_name: string;
    zone_id: string | null;
    vehicle_id: string | null;
    station_id: string | null;
    /** JSON (AlertScope). */
    scope: string;
    assignee: string | null;
    /** JSON array of links. */
    links: string;
    created_at: string;
    updated_at: string;
    last_alert_at: string;
    acknowledged_at: string | null;
    dispatched_at: string | null;
    resolved_at: string | null;
    /** JSON (Reach). */
    reach: string;
  };
  incident_alerts: { incident_id: string; alert_id: string };
  incident_events: {
    id: Generated<number>;
    incident_id: string;
    at: string;
    actor: string | null;
    kind: string;
    state: string | null;
    text: string | null;
  };
  webhook_outbox: {
    id: Generated<number>;
    event_seq: number;
    incident_id: string;
    idem_key: string;
    body: string;
    attempts: Generated<number>;
    next_at_ms: number;
    last_error: string | null;
    delivered_at: string | null;
  };
}
