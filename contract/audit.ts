import { z } from 'zod';

/** The audit trail: records, the viewer's filters, signed checkpoints and the anchored check. See docs/security.md. */

export const AuditRecord = z.strictObject({
  seq: z.number().int(),
  at: z.string(),
  actorId: z.string().nullable(),
  actor: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** ISO 8601 instant with a zone (what `at` holds), so comparing as text orders by time. */
const Instant = z.iso.datetime({ offset: true, message: 'an ISO 8601 time such as 2026-12-01T20:00:00Z' });

/**
 * Filters of `GET /api/v1/audit` (query string). Newest first; `beforeSeq` pages to older
 * records (pass the answer's `nextBeforeSeq`). `actor` is the user name, exact and
 * case-insensitive; `action` a dotted verb (`auth.login`) or a prefix ending in a dot (`auth.`).
 */
export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  beforeSeq: z.coerce.number().int().min(1).optional(),
  actor: z.string().min(1).max(64).optional(),
  action: z.string().min(1).max(64).optional(),
  from: Instant.optional(),
  to: Instant.optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditList = z.strictObject({
  records: z.array(AuditRecord),
  /** Records matching the filters, on every page. */
  total: z.number().int(),
  /** Pass as `beforeSeq` for the next (older) page; null on the last page. */
  nextBeforeSeq: z.number().int().nullable(),
});
export type AuditList = z.infer<typeof AuditList>;

/**
 * A signed statement that the chain's head was record `seq` with hash `headHash` at `at`.
 * `prev` is the SHA-256 of the previous checkpoint (zeros for the first), `id` counts from 1
 * without gaps. One JSON object per line is the export format for an outside notary.
 */
export const AuditCheckpoint = z.strictObject({
  id: z.number().int().min(1),
  seq: z.number().int().min(0),
  headHash: z.string().regex(/^[0-9a-f]{64}$/, '64 hex digits'),
  at: z.string(),
  prev: z.string().regex(/^[0-9a-f]{64}$/, '64 hex digits'),
  keyFingerprint: z.string(),
  /** Ed25519 over the statement (see core/audit/checkpoints.ts), base64. */
  signature: z.string(),
});
export type AuditCheckpoint = z.infer<typeof AuditCheckpoint>;
export const AuditCheckpointList = z.strictObject({ checkpoints: z.array(AuditCheckpoint), keyFingerprint: z.string().nullable() });

/** The result of the same check `sentinel audit verify` runs: the chain, then every checkpoint. */
export const AuditVerify = z.strictObject({
  ok: z.boolean(),
  records: z.number().int(),
  /** The first record that is not proven good (edited, deleted, or rewritten after a checkpoint). */
  firstBroken: z.number().int().nullable(),
  /** The first checkpoint that failed (missing, edited, badly signed, or not matching the chain). */
  badCheckpoint: z.number().int().nullable(),
  reason: z.string().nullable(),
  /** Checkpoints checked (the database's, plus an anchor file's). */
  checkpoints: z.number().int(),
  /** The newest record a good checkpoint vouches for; records after it rest on the chain alone. */
  anchoredSeq: z.number().int().nullable(),
  keyFingerprint: z.string().nullable(),
});
export type AuditVerify = z.infer<typeof AuditVerify>;

export const auditRoutes = {
  audit: { method: 'GET', path: '/api/v1/audit', response: AuditList, roles: ['admin', 'reviewer'] },
  auditVerify: { method: 'GET', path: '/api/v1/audit/verify', response: AuditVerify, roles: ['admin', 'reviewer'] },
  auditCheckpoints: { method: 'GET', path: '/api/v1/audit/checkpoints', response: AuditCheckpointList, roles: ['admin', 'reviewer'] },
} as const;
