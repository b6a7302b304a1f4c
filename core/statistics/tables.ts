/**
 * The table the statistics own (core/db/migrations/0011; Postgres: core/db/postgres/0020_baseline.ts),
 * and the columns of other features' tables that the monthly figures read (read only: the
 * statistics never write there), as stored.
 */
export interface StatisticsTables {
  statistics_published: {
    /** YYYY-MM. */
    month: string;
    csv: string;
    html: string;
    /** The signed manifest, JSON. */
    manifest: string;
    signature: string;
    published_by: string;
    published_at: string;
  };
  incidents: {
    id: string;
    kind: string;
    /** The alert scope, JSON: { district, lines, routes }. */
    scope: string;
    created_at: string;
    acknowledged_at: string | null;
    dispatched_at: string | null;
    resolved_at: string | null;
  };
  incident_events: { incident_id: string; kind: string };
  verdicts: { incident_id: string; verdict: 'true-alarm' | 'false-alarm' };
  cameras: { id: string; mount: string; recording_enabled: number; created_at: string };
  segments: { camera_id: string; start_ms: number; end_ms: number };
}
