import type { Migration } from './types';

/**
 * The installation itself: one row naming this install (its id goes into audit records,
 * evidence manifests and CAP messages) and a small key/value table for settings that the
 * console changes at run time (the config file holds what an administrator sets).
 */
export const m0001: Migration = {
  version: 1,
  name: 'init',
  up(db) {
    db.exec(`
      CREATE TABLE installation (
        id          TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL
      ) STRICT;
      CREATE TABLE settings (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      ) STRICT;
    `);
    db.prepare('INSERT INTO installation (id, created_at) VALUES (?, ?)').run(crypto.randomUUID(), new Date().toISOString());
  },
};
