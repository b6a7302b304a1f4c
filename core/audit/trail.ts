import { createHash } from 'node:crypto';
import type { AuditList, AuditQuery, AuditRecord } from '../../contract';
import { sql } from 'kysely';
import { takeSerialLocks, typed, type Executor, type SqlDb } from '../db/sql';
import type { AuditTables } from './tables';

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
export type AuditRow = AuditTables['audit'];

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

/** Records read per query while verifying: the whole trail is never held in memory. */
const VERIFY_PAGE = 2000;

/**
 * The tamper-evident audit trail: an append-only table where each record carries the hash
 * of the previous one. An append reads the chain's head and writes head + 1 in one
 * transaction that holds the chain's serial lock on Postgres (SQLite's immediate
 * transaction serialises it already), so two writers, on any replica, never chain to the
 * same predecessor: one chain, seq 1..N without a gap.
 */
export class AuditTrail {
  private readonly listeners = new Set<(r: AuditRecord) => void>();
  constructor(private readonly db: SqlDb) {}

  /**
   * Appends a record. Alone, in its own transaction; the listeners hear of it once committed.
   * With `ex` (a caller's transaction: the alert spine's), inside it, so the record commits or
   * rolls back with the caller's change; the caller calls `published` after its commit. A
   * caller that also appends to the lifecycle log takes both serial locks when it begins
   * (`locks: ['log', 'audit']`): log before audit, always, so no two transactions deadlock.
   */
  async append(e: AuditEntry, ex?: Executor): Promise<AuditRecord> {
    if (ex) return toRecord(await this.appendIn(ex, e));
    const record = toRecord(await this.db.transaction((trx) => this.appendIn(trx, e), { locks: ['audit'] }));
    this.published(record);
    return record;
  }

  private async appendIn(ex: Executor, e: AuditEntry): Promise<AuditRow> {
    // The lock before the head is read, so the read sees every append committed before it
    // (READ COMMITTED); a no-op when the caller's transaction already holds it.
    await takeSerialLocks(ex, this.db.dialect, ['audit']);
    const k = typed<AuditTables>(ex);
    const prev = await k.selectFrom('audit').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
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
    await k.insertInto('audit').values(full).execute();
    return full;
  }

  /** Tells the listeners of records a caller appended in its own transaction, once that committed. */
  published(...records: AuditRecord[]): void {
    for (const record of records) for (const fn of this.listeners) fn(record);
  }

  /**
   * One page of records, newest first, matching every filter given. Times are compared as
   * UTC ISO text (what `at` holds), so the filters are normalised to that first.
   */
  async page(q: AuditQuery = {}): Promise<AuditList> {
    const k = this.db.as<AuditTables>();
    const filtered = k
      .selectFrom('audit')
      .$if(!!q.actor, (b) => b.where(sql<boolean>`lower(actor) = lower(${q.actor ?? ''})`))
      // A prefix ("auth.") lists a family of actions; LIKE's wildcards in it are taken literally.
      .$if(!!q.action?.endsWith('.'), (b) =>
        b.where(sql<boolean>`action LIKE ${`${(q.action ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`} ESCAPE '\\'`),
      )
      .$if(!!q.action && !q.action.endsWith('.'), (b) => b.where('action', '=', q.action ?? ''))
      .$if(!!q.from, (b) => b.where('at', '>=', new Date(q.from ?? 0).toISOString()))
      .$if(!!q.to, (b) => b.where('at', '<=', new Date(q.to ?? 0).toISOString()));
    const { n } = await filtered.select(sql<number>`CAST(count(*) AS INTEGER)`.as('n')).executeTakeFirstOrThrow();
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 5000);
    const rows = await filtered
      .selectAll()
      .$if(q.beforeSeq !== undefined, (b) => b.where('seq', '<', q.beforeSeq ?? 0))
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();
    const more = rows.length > limit;
    const records = rows.slice(0, limit).map(toRecord);
    return { records, total: Number(n), nextBeforeSeq: more ? (records.at(-1)?.seq ?? null) : null };
  }

  /** The records of `page`, for callers that want only them (tests, the CLI). */
  async list(q: AuditQuery = {}): Promise<AuditRecord[]> {
    return (await this.page(q)).records;
  }

  /** The newest record's seq and hash (seq 0 and the genesis hash for an empty trail). */
  async head(ex: Executor = this.db.as()): Promise<{ seq: number; hash: string }> {
    const r = await typed<AuditTables>(ex).selectFrom('audit').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return r ?? { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * The stored rows (hashes included, as in the table) whose target is one of `targets`, in
   * order: the excerpt an evidence package carries, matchable against the chain.
   */
  async excerpt(targets: readonly string[]): Promise<AuditRow[]> {
    if (targets.length === 0) return [];
    return this.db.as<AuditTables>().selectFrom('audit').selectAll().where('target', 'in', targets).orderBy('seq').execute();
  }

  /** The stored hash of record `seq`, or null when there is no such record. */
  async hashAt(seq: number): Promise<string | null> {
    const r = await this.db.as<AuditTables>().selectFrom('audit').select('hash').where('seq', '=', seq).executeTakeFirst();
    return r?.hash ?? null;
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
  async verify(): Promise<VerifyResult> {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let n = 0;
    let after = 0;
    for (;;) {
      const rows = await this.db
        .as<AuditTables>()
        .selectFrom('audit')
        .selectAll()
        .where('seq', '>', after)
        .orderBy('seq', 'asc')
        .limit(VERIFY_PAGE)
        .execute();
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.seq;
      for (const r of rows) {
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
    }
    return { ok: true, records: n, firstBroken: null, reason: null };
  }
}

/** A stored audit row as the API gives it. */
export function toRecord(r: AuditRow): AuditRecord {
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
