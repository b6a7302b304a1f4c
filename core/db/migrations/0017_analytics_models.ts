import type { Migration } from './types';

/**
 * Model choices made while the core runs (console or API), so they survive a restart:
 * `analytics_models` holds the box-wide slots (`detector`, the default person detector, and
 * `fight`, the fight classifier; a missing row means the config's value), `camera_models` a
 * camera's own detector (a missing row means the default). A camera's choice goes with the
 * camera.
 */
export const m0017: Migration = {
  version: 17,
  name: 'analytics_models',
  up(db) {
    db.exec(`
      CREATE TABLE analytics_models (
        slot        TEXT PRIMARY KEY CHECK (slot IN ('detector', 'fight')),
        model       TEXT NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
        updated_at  TEXT NOT NULL,
        updated_by  TEXT
      );
      CREATE TABLE camera_models (
        camera_id   TEXT PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
        model       TEXT NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
        updated_at  TEXT NOT NULL,
        updated_by  TEXT
      );
    `);
  },
};
