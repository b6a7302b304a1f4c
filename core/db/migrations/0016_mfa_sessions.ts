import type { Migration } from './types';

/**
 * Second factor and sessions the user can see.
 * - `users.totp_pending_secret`: a new authenticator secret waits here until a code from it
 *   is confirmed, so an abandoned change never leaves an account without its factor.
 * - `recovery_codes`: ten one-time codes per user, only their scrypt hashes; `used_at` marks
 *   the one spent at a sign-in.
 * - `sessions.id` is a random public id (the token hash names socket rooms and stays
 *   internal), `user_agent` and `method` (password or single sign-on) are shown in the
 *   sessions list; `method` decides whether the local MFA policy applies.
 * - `user_notices`: what a user must be told at their next sign-in (a second factor reset by
 *   an administrator); `seen_at` once it was shown.
 */
export const m0016: Migration = {
  version: 16,
  name: 'mfa-sessions',
  up(db) {
    db.exec(`
      ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
      CREATE TABLE recovery_codes (
        id          INTEGER PRIMARY KEY,
        user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash   TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        used_at     TEXT
      ) STRICT;
      CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
      ALTER TABLE sessions ADD COLUMN id TEXT;
      ALTER TABLE sessions ADD COLUMN user_agent TEXT;
      ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password' CHECK (method IN ('password', 'sso'));
      UPDATE sessions SET id = lower(hex(randomblob(16))) WHERE id IS NULL;
      CREATE UNIQUE INDEX sessions_id ON sessions (id);
      CREATE TABLE user_notices (
        id          INTEGER PRIMARY KEY,
        user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind        TEXT NOT NULL CHECK (kind IN ('mfa_reset')),
        message     TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        seen_at     TEXT
      ) STRICT;
      CREATE INDEX user_notices_user ON user_notices (user_id, seen_at);
    `);
  },
};
