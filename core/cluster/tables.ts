/**
 * The table the cluster owns (core/db/migrations/0013; Postgres: core/db/postgres/0020_baseline.ts),
 * as stored: one row per leased job, analytics node or camera placement.
 */
export interface ClusterTables {
  leases: {
    name: string;
    holder: string;
    /** Epoch ms (BIGINT). */
    expires_at_ms: number;
    fence: number;
    acquired_at: string;
    renewed_at: string;
    /** What the holder reports about itself, JSON; '{}' by default. */
    info: string;
  };
}
