import type { Generated } from 'kysely';

/** The tables the alert lifecycle owns (migrations 0009 and earlier; Postgres: 0020_baseline.ts), as stored. */
export interface LifecycleTables {
  lifecycle_events: {
    seq: Generated<number>;
    at: string;
    kind: string;
    alert_id: string | null;
    incident_id: string | null;
    camera_id: string | null;
    actor: string | null;
    /** JSON array of socket rooms. */
    rooms: string;
    /** JSON. */
    payload: string;
  };
  alert_acks: { alert_id: string; user_id: string; username: string; role: string; at: string };
  alert_escalations: { alert_id: string; at: string; reason: string };
}
