import { createHash } from 'node:crypto';
import type { AuditList, AuditQuery, AuditRecord } from '../../contract';
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

/** A row of the audit table as stored. */
export interface AuditRow {
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
export function recordHash(r: Omit<AuditRow, 'hash'>): string {
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
  private readonly hashBySeq;
  private readonly listeners = new Set<(r: AuditRecord) => void>();
  constructor(private readonly db: Database) {
    this.insert = db.prepare(
      'INSERT INTO audit (seq, at, actor_id, actor, action, target, detail, ip, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.hashBySeq = db.prepare('SELECT hash FROM audit WHERE seq = ?');
  }

  /**
   * Appends a record. Async because the trail moves to Kysely (either database); on SQLite it
   * is still the synchronous immediate transaction below, whose result `appendNow` gives to
   * callers inside a synchronous better-sqlite3 transaction of their own.
   */
  append(e: AuditEntry): Promise<AuditRecord> {
    return Promise.resolve(this.appendNow(e));
  }

  appendNow(e: AuditEntry): AuditRecord {
    const run = this.db.transaction((): AuditRow => {
      const prev = this.last.get() as { seq: number; hash: string } | undefined;
      const row: Omit<AuditRow, 'hash'> = {
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
      const full: AuditRow = { ...row, hash: recordHash(row) };
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
    const record = toRecord(run.immediate());
    for (const fn of this.listeners) fn(record);
    return record;
  }

  /**
   * One page of records, newest first, matching every filter given. Times are compared as
   * UTC ISO text (what `at` holds), so the filters are normalised to that first.
   */
  page(q: AuditQuery = {}): AuditList {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.actor) {
      where.push('actor = ? COLLATE NOCASE');
      args.push(q.actor);
    }
    if (q.action?.endsWith('.')) {
      // A prefix ("auth.") lists a family of actions; LIKE's wildcards in it are taken literally.
      where.push("action LIKE ? ESCAPE '\\'");
      args.push(`${q.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    } else if (q.action) {
      where.push('action = ?');
      args.push(q.action);
    }
    if (q.from) {
      where.push('at >= ?');
      args.push(new Date(q.from).toISOString());
    }
    if (q.to) {
      where.push('at <= ?');
      args.push(new Date(q.to).toISOString());
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM audit ${filter}`).get(...args) as { n: number }).n;
    const page = q.beforeSeq !== undefined ? `${filter ? `${filter} AND` : 'WHERE'} seq < ?` : filter;
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 5000);
    const rows = this.db
      .prepare(`SELECT * FROM audit ${page} ORDER BY seq DESC LIMIT ?`)
      .all(...args, ...(q.beforeSeq !== undefined ? [q.beforeSeq] : []), limit + 1) as AuditRow[];
    const more = rows.length > limit;
    const records = rows.slice(0, limit).map(toRecord);
    return { records, total, nextBeforeSeq: more ? (records.at(-1)?.seq ?? null) : null };
  }

  /** The records of `page`, for callers that want only them (tests, the CLI). */
  list(q: AuditQuery = {}): AuditRecord[] {
    return this.page(q).records;
  }

  /** The newest record's seq and hash (seq 0 and the genesis hash for an empty trail). */
  head(): { seq: number; hash: string } {
    return (this.last.get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * The stored rows (hashes included, as in the table) whose target is one of `targets`, in
   * order: the excerpt an evidence package carries, matchable against the chain.
   */
  excerpt(targets: readonly string[]): AuditRow[] {
    if (targets.length === 0) return [];
    return this.db
      .prepare(`SELECT * FROM audit WHERE target IN (${targets.map(() => '?').join(',')}) ORDER BY seq`)
      .all(...targets) as AuditRow[];
  }

  /** The stored hash of record `seq`, or null when there is no such record. */
  hashAt(seq: number): string | null {
    return (this.hashBySeq.get(seq) as { hash: string } | undefined)?.hash ?? null;
  }

  /**
   * Runs `fn` after each committed append (checkpointing hangs off this). A listener must not
   * throw: the record is already stored, and the caller's action must not look failed.
   */
  onAppend(fn: (r: AuditRecord) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Recomputes the chain from the first record; names the first record that does not fit. */
  verify(): VerifyResult {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let n = 0;
    for (const r of this.db.prepare('SELECT * FROM audit ORDER BY seq ASC').iterate() as IterableIterator<AuditRow>) {
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

function toRecord(r: AuditRow): AuditRecord {
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
