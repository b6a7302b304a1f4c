import { createHash } from 'node:crypto';
import type { AuditRecord } from '../../contract';
import type { Database } from '../db/database';

/** The hash the first record chains to. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level: the same record always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface AuditEntry {
  actorId?: string | null;
  actor?: string | null;
  /** Dotted verb: auth.login, auth.login_failed, video.view, clip.play, incident.update... */
  action: string;
  target?: string | null;
  detail?: Record<string, unknown>;
  ip?: string | null;
}

interface Row {
  seq: number;
  at: string;
  actor_id: string | null;
  actor: string | null;
  action: string;
  target: string | null;
  detail: string;
  ip: string | null;
  prev_hash: string;
  hash: string;
}

/** What is hashed: every field except the record's own hash, chained to the previous hash. */
function recordHash(r: Omit<Row, 'hash'>): string {
  const body = canonicalJson({
    seq: r.seq,
    at: r.at,
    actorId: r.actor_id,
    actor: r.actor,
    action: r.action,
    target: r.target,
    detail: JSON.parse(r.detail) as unknown,
    ip: r.ip,
    prevHash: r.prev_hash,
  });
  return createHash('sha256').update(body).digest('hex');
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  firstBroken: number | null;
  reason: string | null;
}

/**
 * The tamper-evident audit trail: an append-only table where each record carries the hash
 * of the previous one. Appends run in an IMMEDIATE transaction so two writers cannot chain
 * to the same predecessor.
 */
export class AuditTrail {
  private readonly insert;
  private readonly last;
  constructor(private readonly db: Database) {
    this.insert = db.prepare(
      'INSERT INTO audit (seq, at, actor_id, actor, action, target, detail, ip, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
  }

  append(e: AuditEntry): AuditRecord {
    const run = this.db.transaction((): Row => {
      const prev = this.last.get() as { seq: number; hash: string } | undefined;
      const row: Omit<Row, 'hash'> = {
        seq: (prev?.seq ?? 0) + 1,
        at: new Date().toISOString(),
        actor_id: e.actorId ?? null,
        actor: e.actor ?? null,
        action: e.action,
        target: e.target ?? null,
        detail: canonicalJson(e.detail ?? {}),
        ip: e.ip ?? null,
        prev_hash: prev?.hash ?? GENESIS_HASH,
      };
      const full: Row = { ...row, hash: recordHash(row) };
      this.insert.run(
        full.seq,
        full.at,
        full.actor_id,
        full.actor,
        full.action,
        full.target,
        full.detail,
        full.ip,
        full.prev_hash,
        full.hash,
      );
      return full;
    });
    return toRecord(run.immediate());
  }

  list(opts: { limit?: number; beforeSeq?: number; action?: string } = {}): AuditRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.beforeSeq !== undefined) {
      where.push('seq < ?');
      args.push(opts.beforeSeq);
    }
    if (opts.action) {
      where.push('action = ?');
      args.push(opts.action);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, Math.min(Math.max(opts.limit ?? 200, 1), 5000)) as Row[]).map(toRecord);
  }

  /** Recomputes the chain from the first record; names the first record that does not fit. */
  verify(): VerifyResult {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let n = 0;
    for (const r of this.db.prepare('SELECT * FROM audit ORDER BY seq ASC').iterate() as IterableIterator<Row>) {
      n++;
      if (r.seq !== expectedSeq)
        return {
          ok: false,
          records: n,
          firstBroken: r.seq,
          reason: `record ${r.seq}: expected sequence ${expectedSeq} (a record was deleted or inserted)`,
        };
      if (r.prev_hash !== prevHash)
        return {
          ok: false,
          records: n,
          firstBroken: r.seq,
          reason: `record ${r.seq}: its previous-hash does not match record ${r.seq - 1}'s hash`,
        };
      let computed: string;
      try {
        computed = recordHash(r);
      } catch {
        return { ok: false, records: n, firstBroken: r.seq, reason: `record ${r.seq}: detail is not valid JSON` };
      }
      if (computed !== r.hash)
        return {
          ok: false,
          records: n,
          firstBroken: r.seq,
          reason: `record ${r.seq} (${r.action}): its content does not match its hash (edited)`,
        };
      prevHash = r.hash;
      expectedSeq++;
    }
    return { ok: true, records: n, firstBroken: null, reason: null };
  }
}

function toRecord(r: Row): AuditRecord {
  return {
    seq: r.seq,
    at: r.at,
    actorId: r.actor_id,
    actor: r.actor,
    action: r.action,
    target: r.target,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    ip: r.ip,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
