import { createHash, sign, verify as verifySignature, type KeyObject } from 'node:crypto';
import { AuditCheckpoint, type AuditRecord, type AuditVerify } from '../../contract';
import { typed, type Executor, type SqlDb } from '../db/sql';
import type { SigningKey } from '../evidence/keys';
import { SentinelError } from '../errors';
import type { Logger } from '../logger';
import type { AuditTables } from './tables';
import { canonicalJson, GENESIS_HASH, type AuditTrail } from './trail';

/**
 * Signed checkpoints of the audit chain's head (table audit_checkpoints, migration 0012).
 *
 * The hash chain proves the trail consistent with itself, which anyone able to write the
 * database can also make true of a rewritten trail. A checkpoint adds what the database
 * cannot forge: the installation's Ed25519 signature (the evidence key, kept outside the
 * database) over the head's seq and hash at a time. Verification therefore needs both: the
 * chain recomputed, then every checkpoint's signature and the chain's hash at its seq.
 */

/** Bumped only if the signed statement's layout changes; old checkpoints keep their version's text. */
const STATEMENT_PREFIX = 'sentinel-audit-checkpoint/1\n';

/** The exact bytes that are signed: the checkpoint minus its signature, canonical JSON. */
export function checkpointStatement(c: Omit<AuditCheckpoint, 'signature'>): Buffer {
  return Buffer.from(
    STATEMENT_PREFIX +
      canonicalJson({ id: c.id, seq: c.seq, headHash: c.headHash, at: c.at, prev: c.prev, keyFingerprint: c.keyFingerprint }),
  );
}

/** What the next checkpoint's `prev` holds: the SHA-256 of this one, signature included. */
export function checkpointDigest(c: AuditCheckpoint): string {
  return createHash('sha256').update(checkpointStatement(c)).update(c.signature).digest('hex');
}

type Row = AuditTables['audit_checkpoints'];
const fromRow = (r: Row): AuditCheckpoint => ({
  id: r.id,
  seq: r.seq,
  headHash: r.head_hash,
  at: r.at,
  prev: r.prev,
  keyFingerprint: r.key_fingerprint,
  signature: r.signature,
});

export interface CheckpointPolicy {
  /** A checkpoint once the head is this many records past the last one. */
  everyRecords: number;
  /** ...and at least this often while the trail holds any record. */
  maxAgeMs: number;
}

/** Reads the checkpoint table (the CLI and the core both need this; only the writer signs). */
export async function listCheckpoints(db: SqlDb): Promise<AuditCheckpoint[]> {
  return (await db.as<AuditTables>().selectFrom('audit_checkpoints').selectAll().orderBy('id', 'asc').execute()).map(fromRow);
}

/**
 * Writes checkpoints for one trail. The key is asked for lazily (the first checkpoint), so a
 * core whose key cannot be opened still records its audit trail and says why checkpoints are
 * missing, rather than refusing every audited action.
 */
export class AuditCheckpointer {
  private failing = false;
  /**
   * What the last look under the lock found: the newest checkpoint's seq and time (or 0 and the
   * oldest record's time, with none yet). Lets an append decide without a transaction that no
   * checkpoint is due: another replica's checkpoint only makes this older, so an append may
   * look under the lock early, never late.
   */
  private anchor: { seq: number; since: string } | null = null;

  constructor(
    private readonly db: SqlDb,
    private readonly trail: AuditTrail,
    private readonly key: () => SigningKey,
    private readonly policy: CheckpointPolicy,
    private readonly log: Logger,
  ) {}

  async latest(ex: Executor = this.db.as()): Promise<AuditCheckpoint | null> {
    const r = await typed<AuditTables>(ex).selectFrom('audit_checkpoints').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
    return r ? fromRow(r) : null;
  }

  /**
   * After an append: signs the head if a checkpoint may be due. Most appends are decided in
   * memory, because a check under the audit chain's lock on every append would queue each one
   * behind the next spine transaction on Postgres (every alert writes an audit record).
   */
  async afterAppend(r: Pick<AuditRecord, 'seq'>, now = new Date()): Promise<AuditCheckpoint | null> {
    const a = this.anchor;
    if (a && r.seq - a.seq < this.policy.everyRecords && now.getTime() - Date.parse(a.since) < this.policy.maxAgeMs) return null;
    return this.maybeCheckpoint(now);
  }

  /**
   * Signs the current head when the policy asks for it (`force`: whenever the head moved,
   * as at start and shutdown). Resolves with the new checkpoint, or null when none was due.
   * Never rejects: a failure is logged once per run of failures.
   */
  async maybeCheckpoint(now = new Date(), force = false): Promise<AuditCheckpoint | null> {
    try {
      // The audit chain's lock: the head read here is the committed head, and a checkpoint
      // written by another replica meanwhile is seen (its id + 1 is never taken twice).
      const written = await this.db.transaction(
        async (trx): Promise<AuditCheckpoint | null> => {
          const k = typed<AuditTables>(trx);
          const last = await this.latest(trx);
          const head = await this.trail.head(trx);
          if (head.seq === 0) return null;
          const behind = head.seq - (last?.seq ?? 0);
          // With no checkpoint yet, the age is the oldest record's: a new trail is anchored within maxAge too.
          const since = last?.at ?? (await k.selectFrom('audit').select('at').orderBy('seq', 'asc').limit(1).executeTakeFirstOrThrow()).at;
          const age = now.getTime() - Date.parse(since);
          const due = behind >= this.policy.everyRecords || age >= this.policy.maxAgeMs || (force && behind > 0);
          this.anchor = { seq: last?.seq ?? 0, since };
          if (!due) return null;
          const key = this.key();
          const unsigned = {
            id: (last?.id ?? 0) + 1,
            seq: head.seq,
            headHash: head.hash,
            at: now.toISOString(),
            prev: last ? checkpointDigest(last) : GENESIS_HASH,
            keyFingerprint: key.fingerprint,
          };
          const signature = sign(null, checkpointStatement(unsigned), key.privateKey).toString('base64');
          const c: AuditCheckpoint = { ...unsigned, signature };
          await k
            .insertInto('audit_checkpoints')
            .values({
              id: c.id,
              seq: c.seq,
              head_hash: c.headHash,
              at: c.at,
              prev: c.prev,
              key_fingerprint: c.keyFingerprint,
              signature: c.signature,
            })
            .execute();
          return c;
        },
        { locks: ['audit'] },
      );
      // Only after the commit: a rolled-back checkpoint must not move the anchor.
      if (written) this.anchor = { seq: written.seq, since: written.at };
      if (written) {
        if (this.failing) this.log.info('audit checkpoints are being written again');
        this.failing = false;
        this.log.debug({ id: written.id, seq: written.seq }, 'audit checkpoint signed');
      }
      return written;
    } catch (err) {
      if (!this.failing)
        this.log.error({ err }, 'cannot write an audit checkpoint; the chain is recorded but not anchored until this is fixed');
      this.failing = true;
      return null;
    }
  }
}

/** The public half that checkpoints must be signed with. */
export interface AnchorKey {
  publicKey: KeyObject;
  fingerprint: string;
}

/** Reads an exported checkpoint file (JSON lines); a bad line is named by file and line number. */
export function parseCheckpointLines(text: string, source: string): AuditCheckpoint[] {
  const out: AuditCheckpoint[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new SentinelError(`${source} line ${i + 1}: not JSON (expected one checkpoint per line, as "audit checkpoints export" writes)`);
    }
    const parsed = AuditCheckpoint.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new SentinelError(`${source} line ${i + 1}: ${issue.path.join('.') || 'checkpoint'}: ${issue.message}`);
    }
    out.push(parsed.data);
  });
  if (!out.length) throw new SentinelError(`${source} holds no checkpoints`);
  return out;
}

const same = (a: AuditCheckpoint, b: AuditCheckpoint): boolean => checkpointDigest(a) === checkpointDigest(b);

/**
 * The one audit check (CLI `audit verify` and `GET /api/v1/audit/verify`):
 * 1. the chain is recomputed (an edited, inserted or deleted record is named);
 * 2. the database's checkpoints are gapless, linked, and signed by the installation key;
 * 3. an anchor (an exported file kept elsewhere) is signed the same way and each of its
 *    checkpoints is still in the database unchanged;
 * 4. the chain's stored hash at each checkpoint's seq is the signed head hash, so a chain
 *    rewritten consistently after a checkpoint fails there, naming the first record the
 *    previous good checkpoint no longer vouches for.
 */
export async function verifyAnchored(
  db: SqlDb,
  trail: AuditTrail,
  key: AnchorKey | null,
  anchor?: { checkpoints: AuditCheckpoint[]; source: string },
): Promise<AuditVerify> {
  const chain = await trail.verify();
  const dbCheckpoints = await listCheckpoints(db);
  const base = {
    records: chain.records,
    checkpoints: dbCheckpoints.length + (anchor?.checkpoints.length ?? 0),
    keyFingerprint: key?.fingerprint ?? null,
  };
  const fail = (reason: string, firstBroken: number | null, badCheckpoint: number | null, anchoredSeq: number | null): AuditVerify => ({
    ...base,
    ok: false,
    firstBroken,
    badCheckpoint,
    reason,
    anchoredSeq,
  });
  if (!chain.ok) return fail(chain.reason ?? 'the chain is broken', chain.firstBroken, null, null);

  const checkSigned = (list: AuditCheckpoint[], where: string, contiguousFrom: number | null): { reason: string; id: number } | null => {
    let prev: AuditCheckpoint | null = null;
    for (const c of list) {
      const expected = prev ? prev.id + 1 : (contiguousFrom ?? c.id);
      if (c.id !== expected && contiguousFrom !== null)
        return { id: expected, reason: `checkpoint ${expected} is missing from ${where} (deleted): the next one there is ${c.id}` };
      if (prev && c.id === prev.id + 1 && c.prev !== checkpointDigest(prev))
        return {
          id: c.id,
          reason: `checkpoint ${c.id} in ${where} does not follow checkpoint ${prev.id} (its link to the previous checkpoint is wrong)`,
        };
      if (!prev && c.id === 1 && c.prev !== GENESIS_HASH)
        return { id: 1, reason: `checkpoint 1 in ${where} does not start the checkpoint chain` };
      if (!key)
        return { id: c.id, reason: `${where} holds checkpoints but the installation's signing key is missing, so none can be checked` };
      if (c.keyFingerprint !== key.fingerprint)
        return {
          id: c.id,
          reason: `checkpoint ${c.id} in ${where} was signed by key ${c.keyFingerprint}, not this installation's ${key.fingerprint}`,
        };
      let good = false;
      try {
        good = verifySignature(null, checkpointStatement(c), key.publicKey, Buffer.from(c.signature, 'base64'));
      } catch {
        good = false;
      }
      if (!good)
        return { id: c.id, reason: `checkpoint ${c.id} in ${where}: its signature does not verify (the checkpoint was edited or forged)` };
      prev = c;
    }
    return null;
  };
  const dbProblem = checkSigned(dbCheckpoints, 'the database', 1);
  if (dbProblem) return fail(dbProblem.reason, null, dbProblem.id, null);
  if (anchor) {
    const fileProblem = checkSigned(anchor.checkpoints, anchor.source, null);
    if (fileProblem) return fail(fileProblem.reason, null, fileProblem.id, null);
  }

  // Every trusted checkpoint against the chain, oldest head first.
  const all = [...dbCheckpoints, ...(anchor?.checkpoints ?? [])].sort((a, b) => a.seq - b.seq || a.id - b.id);
  let anchoredSeq: number | null = null;
  for (const c of all) {
    if (c.seq > chain.records) {
      return fail(
        `checkpoint ${c.id} (signed ${c.at}) vouches for record ${c.seq}, but the trail ends at record ${chain.records}: records ${chain.records + 1}..${c.seq} were deleted`,
        chain.records + 1,
        c.id,
        anchoredSeq,
      );
    }
    if (c.seq > 0 && (await trail.hashAt(c.seq)) !== c.headHash) {
      const from = (anchoredSeq ?? 0) + 1;
      return fail(
        `record ${c.seq} does not match checkpoint ${c.id} (signed ${c.at}): records ${from}..${c.seq} were rewritten after they were checkpointed`,
        from,
        c.id,
        anchoredSeq,
      );
    }
    anchoredSeq = Math.max(anchoredSeq ?? 0, c.seq);
  }

  if (anchor) {
    const byId = new Map(dbCheckpoints.map((c) => [c.id, c]));
    for (const c of anchor.checkpoints) {
      const mine = byId.get(c.id);
      if (!mine)
        return fail(
          `checkpoint ${c.id} (record ${c.seq}, signed ${c.at}) from ${anchor.source} is missing from the database (deleted)`,
          null,
          c.id,
          anchoredSeq,
        );
      if (!same(mine, c)) return fail(`checkpoint ${c.id} in the database differs from ${anchor.source}`, null, c.id, anchoredSeq);
    }
  }
  return { ...base, ok: true, firstBroken: null, badCheckpoint: null, reason: null, anchoredSeq };
}
