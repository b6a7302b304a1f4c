import type { Migration } from './types';

/**
 * Single sign-on: which provider identity (issuer + subject, the only stable pair: a user
 * name or an e-mail address can be reassigned) is which Sentinel user. A local account is
 * never taken over by a provider identity whose user name matches; only this link counts.
 */
export const m0014: Migration = {
  version: 14,
  name: 'sso_identities',
  up(db) {
    db.exec(`
      CREATE TABLE sso_identities (
        issuer         TEXT NOT NULL,
        subject        TEXT NOT NULL,
        user_id        TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
        created_at     TEXT NOT NULL,
        last_login_at  TEXT NOT NULL,
        PRIMARY KEY (issuer, subject)
      ) STRICT;
    `);
  },
};
