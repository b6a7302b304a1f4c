/**
 * The row of the shared `settings` table (core/db/migrations/0001; Postgres:
 * core/db/postgres/0020_baseline.ts) the feeds write: the Bus Tracker call ledger, one key.
 */
export interface FeedsTables {
  settings: {
    key: string;
    value: string;
    updated_at: string;
  };
}
