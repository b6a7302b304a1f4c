import type { Generated } from 'kysely';

/** The table the alert store owns (Postgres: 0020_baseline.ts), as stored. */
export interface AlertTables {
  alerts: {
    /** Insert order: clients resume after the last seq they saw. */
    seq: Generated<number>;
    id: string;
    kind: string;
    camera_id: string;
    camera_name: string;
    zone_id: string | null;
    zone_name: string | null;
    score: number;
    started_at: string;
    ended_at: string | null;
    snapshot_path: string | null;
    /** JSON array. */
    track_ids: string;
    /** JSON. */
    detail: string;
    /** JSON (AlertScope). */
    scope: string;
    updated_at: string;
  };
}
