/**
 * The tables the analytics own (core/db/migrations/0005 and 0017; Postgres:
 * core/db/postgres/0020_baseline.ts), as stored.
 */
export interface AnalyticsTables {
  zones: {
    camera_id: string;
    id: string;
    /** The zone's place in the camera's list, from 0. */
    position: number;
    /** The validated Zone as JSON. */
    doc: string;
    updated_at: string;
  };
  occupancy: {
    camera_id: string;
    zone_id: string;
    /** Epoch ms (BIGINT). */
    t_ms: number;
    count: number;
  };
  analytics_models: {
    slot: 'detector' | 'fight';
    model: string;
    updated_at: string;
    updated_by: string | null;
  };
  camera_models: {
    camera_id: string;
    model: string;
    updated_at: string;
    updated_by: string | null;
  };
}
