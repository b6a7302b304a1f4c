import type { Generated } from 'kysely';

/**
 * The tables the recording feature owns, as stored (analytics/recording/migrations/0003_recordings.ts
 * and 0010_evidence.ts; core/db/postgres/0020_baseline.ts). Times are epoch ms, except the
 * `*_at` columns, which are ISO text.
 */
export interface RecordingTables {
  segments: {
    id: Generated<number>;
    camera_id: string;
    path: string;
    start_ms: number;
    end_ms: number;
    bytes: number;
    session: number;
  };
  clips: {
    id: string;
    camera_id: string;
    path: string;
    snapshot_path: string | null;
    start_ms: number;
    end_ms: number;
    duration_s: number;
    bytes: number;
    sha256: string;
    snapshot_sha256: string | null;
    created_at: string;
  };
  alert_clips: {
    alert_id: string;
    camera_id: string;
    from_ms: number;
    to_ms: number;
    state: 'pending' | 'ready' | 'failed';
    clip_id: string | null;
    sha256: string | null;
    error: string | null;
    created_at: string;
    updated_at: string;
  };
  evidence_holds: {
    id: Generated<number>;
    camera_id: string;
    from_ms: number;
    to_ms: number;
    kind: 'alert' | 'manual';
    ref: string;
    reason: string;
    created_by: string | null;
    created_at: string;
    lifted_at: string | null;
    lifted_by: string | null;
    lift_reason: string | null;
  };
}
