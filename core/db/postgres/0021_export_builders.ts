import type { PostgresMigration } from './migrate';

/** SQLite's 0021 (core/db/migrations/0021_export_builders.ts): who builds an export, and its last sign of life. */
export const p0021: PostgresMigration = {
  version: 21,
  name: 'export_builders',
  sql: `
ALTER TABLE evidence_exports ADD COLUMN builder TEXT;
ALTER TABLE evidence_exports ADD COLUMN heartbeat_at_ms BIGINT;
CREATE INDEX evidence_exports_building ON evidence_exports (heartbeat_at_ms)
  WHERE state = 'building' OR public_state = 'building';
`,
};
