import type { Generated } from 'kysely';
import type { SessionMethod } from './store';

/**
 * The tables the auth feature owns, as stored (core/db/migrations/0006, 0016;
 * core/db/postgres/0020_baseline.ts). Times of users, recovery codes and notices are ISO text;
 * session times are epoch ms. Flags are 0/1.
 */
export interface AuthTables {
  users: {
    id: string;
    /** Unique case-insensitively: SQLite's COLLATE NOCASE, Postgres's unique index on lower(username). */
    username: string;
    display_name: string;
    role: string;
    /** LiaisonScope as JSON. */
    scope: string;
    password_hash: string;
    totp_secret: string | null;
    totp_pending_secret: string | null;
    totp_enabled: number;
    disabled: number;
    created_at: string;
    updated_at: string;
  };
  sessions: {
    /** SHA-256 of the token: the token itself is never stored. */
    token_hash: string;
    // Nullable in the schema only because it was added by ALTER TABLE (0016, which filled the
    // old rows); every session is created with one, so it is read as a string.
    id: string;
    user_id: string;
    created_at: number;
    expires_at: number;
    last_seen_at: number;
    ip: string | null;
    user_agent: string | null;
    method: SessionMethod;
  };
  recovery_codes: {
    id: Generated<number>;
    user_id: string;
    code_hash: string;
    created_at: string;
    used_at: string | null;
  };
  user_notices: {
    id: Generated<number>;
    user_id: string;
    kind: 'mfa_reset';
    message: string;
    created_at: string;
    seen_at: string | null;
  };
}
