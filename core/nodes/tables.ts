/**
 * The table the analytics nodes feature owns (core/nodes/migrations/0020; Postgres:
 * core/db/postgres/0020_baseline.ts), as stored. Only a token's SHA-256 is kept.
 */
export interface NodesTables {
  analytics_nodes: {
    id: string;
    name: string;
    token_hash: string;
    capacity: number;
    created_at: string;
    created_by: string;
    revoked_at: string | null;
  };
}
