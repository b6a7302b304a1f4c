import type { Migration } from './types';

/**
 * Cameras. The URLs are stored without credentials; the user name and password live only in
 * `credentials`, AES-256-GCM encrypted with a key kept in the data directory (not in the
 * database, so a copied database alone does not reveal them). Mount and location are JSON
 * validated by the contract's schemas on the way in and out.
 */
export const m0002: Migration = {
  version: 2,
  name: 'cameras',
  up(db) {
    db.exec(`
      CREATE TABLE cameras (
        id                 TEXT PRIMARY KEY,
        name               TEXT NOT NULL,
        url                TEXT NOT NULL,
        sub_url            TEXT,
        credentials        BLOB,
        mount              TEXT NOT NULL,
        location           TEXT,
        analytics_enabled  INTEGER NOT NULL DEFAULT 1 CHECK (analytics_enabled IN (0, 1)),
        recording_enabled  INTEGER NOT NULL DEFAULT 1 CHECK (recording_enabled IN (0, 1)),
        demo               INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1)),
        created_at         TEXT NOT NULL,
        updated_at         TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX cameras_name ON cameras (name);
    `);
  },
};
