import type { Migration } from './types';

/**
 * Users, sessions and the audit trail.
 * - Passwords are scrypt hashes with a per-user salt (`scrypt$N$r$p$salt$hash`).
 * - Sessions store only the SHA-256 of the opaque token: a stolen database grants no login.
 * - The audit table is append-only (triggers refuse UPDATE and DELETE) and hash-chained:
 *   each record carries the previous record's hash, so `sentinel audit verify` detects an
 *   edit even by someone who dropped the triggers.
 */
export const m0006: Migration = {
  version: 6,
  name: 'auth-audit',
  up(db) {
    db.exec(`
      CREATE TABLE users (
        id             TEXT PRIMARY KEY,
        username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
        display_name   TEXT NOT NULL,
        role           TEXT NOT NULL CHECK (role IN ('operator', 'liaison', 'technician', 'reviewer', 'admin')),
        scope          TEXT NOT NULL DEFAULT '{}',
        password_hash  TEXT NOT NULL,
        totp_secret    TEXT,
        totp_enabled   INTEGER NOT NULL DEFAULT 0,
        disabled       INTEGER NOT NULL DEFAULT 0,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL
      ) STRICT;
      CREATE TABLE sessions (
        token_hash     TEXT PRIMARY KEY,
        user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at     INTEGER NOT NULL,
        expires_at     INTEGER NOT NULL,
        last_seen_at   INTEGER NOT NULL,
        ip             TEXT
      ) STRICT;
      CREATE INDEX sessions_user ON sessions (user_id);
      CREATE TABLE audit (
        seq            INTEGER PRIMARY KEY,
        at             TEXT NOT NULL,
        actor_id       TEXT,
        actor          TEXT,
        action         TEXT NOT NULL,
        target         TEXT,
        detail         TEXT NOT NULL DEFAULT '{}',
        ip             TEXT,
        prev_hash      TEXT NOT NULL,
        hash           TEXT NOT NULL
      ) STRICT;
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
    `);
  },
};
