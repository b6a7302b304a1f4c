import type { Migration } from '../../db/migrations/types';

/**
 * Analytics nodes: one row per node an administrator issued a token to. Only the token's
 * SHA-256 is kept (it is 32 random bytes, so a fast hash is enough: nothing to brute-force),
 * so a stolen database does not let anyone pose as a node. A revoked node keeps its row, so
 * the audit trail's references to it still name something.
 */
export const m0020: Migration = {
  version: 20,
  name: 'analytics_nodes',
  up(db) {
    db.exec(`
      CREATE TABLE analytics_nodes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        token_hash TEXT NOT NULL UNIQUE,
        capacity INTEGER NOT NULL CHECK (capacity >= 1),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at TEXT
      ) STRICT;
    `);
  },
};
