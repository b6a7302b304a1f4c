import type { Migration } from '../../../common/node/migration';

/**
 * Per-user console preferences kept on the core (the video wall's layout and tiles), so they
 * follow the person between Electron and a browser. One JSON document per (user, key); the
 * feature that owns a key validates it with its contract schema on the way in and out.
 */
export const m0018: Migration = {
  version: 18,
  name: 'user_prefs',
  up(db) {
    db.exec(`
      CREATE TABLE user_prefs (
        user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        key         TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
        value       TEXT NOT NULL CHECK (json_valid(value)),
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (user_id, key)
      ) WITHOUT ROWID;
    `);
  },
};
