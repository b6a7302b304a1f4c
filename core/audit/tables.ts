/** The tables the audit feature owns (migrations 0001 and 0012; Postgres: 0020_baseline.ts), as stored. */
export interface AuditTables {
  audit: {
    /** Assigned by the appender (head + 1 under the chain's lock), not by the database. */
    seq: number;
    at: string;
    actor_id: string | null;
    actor: string | null;
    action: string;
    target: string | null;
    /** Canonical JSON (what is hashed). */
    detail: string;
    ip: string | null;
    prev_hash: string;
    hash: string;
  };
  audit_checkpoints: {
    id: number;
    seq: number;
    head_hash: string;
    at: string;
    prev: string;
    key_fingerprint: string;
    signature: string;
  };
}
