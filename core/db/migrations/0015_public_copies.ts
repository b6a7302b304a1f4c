import type { Migration } from './types';

/**
 * The redacted public copy of an evidence export: its own file, state and hash next to the
 * original's. `public_state` is null when no copy was asked for; the subjects the reviewer
 * kept visible and the mode are stored with it, so the copy can be explained later.
 */
export const m0015: Migration = {
  version: 15,
  name: 'public_copies',
  up(db) {
    db.exec(`
      ALTER TABLE evidence_exports ADD COLUMN public_state TEXT CHECK (public_state IN ('building', 'ready', 'failed'));
      ALTER TABLE evidence_exports ADD COLUMN public_request TEXT;
      ALTER TABLE evidence_exports ADD COLUMN public_path TEXT;
      ALTER TABLE evidence_exports ADD COLUMN public_bytes INTEGER;
      ALTER TABLE evidence_exports ADD COLUMN public_sha256 TEXT;
      ALTER TABLE evidence_exports ADD COLUMN public_report TEXT;
      ALTER TABLE evidence_exports ADD COLUMN public_error TEXT;
    `);
  },
};
