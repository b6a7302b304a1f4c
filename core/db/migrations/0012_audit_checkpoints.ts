import type { Migration } from './types';

/**
 * Signed checkpoints of the audit chain's head. The chain alone proves only that it is
 * consistent with itself: whoever can write the file can rewrite every record and every hash.
 * A checkpoint is the head (seq, hash) at a time, signed with the installation's Ed25519 key,
 * which the database does not hold; `sentinel audit verify` checks the chain against each
 * one. Checkpoints chain to each other (`prev` is the SHA-256 of the previous signed
 * statement, `id` is gapless) so removing one from the middle shows; removing the newest ones
 * shows against an exported copy (`sentinel audit checkpoints export`). Append-only like the
 * trail itself.
 */
export const m0012: Migration = {
  version: 12,
  name: 'audit-checkpoints',
  up(db) {
    db.exec(`
      CREATE TABLE audit_checkpoints (
        id               INTEGER PRIMARY KEY,
        seq              INTEGER NOT NULL CHECK (seq >= 0),
        head_hash        TEXT NOT NULL CHECK (length(head_hash) = 64),
        at               TEXT NOT NULL,
        prev             TEXT NOT NULL CHECK (length(prev) = 64),
        key_fingerprint  TEXT NOT NULL,
        signature        TEXT NOT NULL
      ) STRICT;
      CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
      CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
    `);
  },
};
