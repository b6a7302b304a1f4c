/** The table the wall owns (core/wall/migrations; Postgres: core/db/postgres/0020_baseline.ts), as stored. */
export interface WallTables {
  user_prefs: {
    user_id: string;
    /** 1-64 characters, e.g. 'wall'. */
    key: string;
    /** A JSON document (checked as JSON by both databases). */
    value: string;
    updated_at: string;
  };
}
