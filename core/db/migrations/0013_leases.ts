import type { Migration } from './types';

/**
 * Leases: which process owns a timer-driven job (escalation timers, the webhook outbox,
 * retention, feed polling) or a camera (an analytics node's claim) when several core
 * replicas and analytics nodes share the database. A lease is held until `expires_at_ms`
 * and renewed well before; a holder that dies stops renewing and another takes it over once
 * it has expired. `fence` grows at each change of holder, so a holder can tell it was
 * replaced even if it missed the moment.
 */
export const m0013: Migration = {
  version: 13,
  name: 'leases',
  up(db) {
    db.exec(`
      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        fence INTEGER NOT NULL DEFAULT 1 CHECK (fence >= 1),
        acquired_at TEXT NOT NULL,
        renewed_at TEXT NOT NULL,
        -- What the holder reports about itself (an analytics node's load), JSON.
        info TEXT NOT NULL DEFAULT '{}'
      ) STRICT;
      CREATE INDEX leases_holder ON leases (holder);
    `);
  },
};
