import type { Migration } from './types';

/**
 * Which core replica builds an evidence export, and when it last said it still does. Several
 * replicas share the database (docs/scale.md), so a package left 'building' may be another
 * replica's live work rather than a crash's leftover: only one whose builder stopped renewing
 * `heartbeat_at_ms` (epoch ms, the builder's clock) is failed. Rows from before this version
 * have neither and count as abandoned, as every 'building' row did until now. The partial
 * index keeps the periodic sweep to the few exports in progress, however long the history.
 */
export const m0021: Migration = {
  version: 21,
  name: 'export_builders',
  up(db) {
    db.exec(`
      ALTER TABLE evidence_exports ADD COLUMN builder TEXT;
      ALTER TABLE evidence_exports ADD COLUMN heartbeat_at_ms INTEGER;
      CREATE INDEX evidence_exports_building ON evidence_exports (heartbeat_at_ms)
        WHERE state = 'building' OR public_state = 'building';
    `);
  },
};
