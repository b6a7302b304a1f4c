import type { Database } from 'better-sqlite3';

/**
 * A numbered schema step. Migrations are append-only: once landed, a migration is never
 * edited; a change is a new number. Each has its own test file beside it. The type lives in
 * the leaf module because a feature outside core (analytics/recording) owns migrations of its
 * tables; core/db/migrations/index.ts lists every one in the global order.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
