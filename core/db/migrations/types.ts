import type { Database } from 'better-sqlite3';

/**
 * A numbered schema step. Migrations are append-only: once landed, a migration is never
 * edited; a change is a new number. Each has its own test file beside it.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
