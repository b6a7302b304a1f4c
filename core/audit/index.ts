import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { AuditTrail, type AuditEntry } from './trail';

export { AuditTrail, canonicalJson, GENESIS_HASH, type AuditEntry, type VerifyResult } from './trail';

/**
 * One trail per open database (the core's, or a CLI command's), so any feature can audit
 * without the trail being threaded through every constructor.
 */
const trails = new WeakMap<Database, AuditTrail>();
export function auditTrail(db: Database): AuditTrail {
  let t = trails.get(db);
  if (!t) {
    t = new AuditTrail(db);
    trails.set(db, t);
  }
  return t;
}

/** The signed-in user behind a request (set by the auth hook), as audit fields. */
export function actorOf(req: FastifyRequest): Pick<AuditEntry, 'actorId' | 'actor' | 'ip'> {
  const user = req.auth?.user;
  return { actorId: user?.id ?? null, actor: user?.username ?? null, ip: req.ip };
}

/** Audits a request's action. */
export function audit(
  db: Database,
  req: FastifyRequest,
  action: string,
  target: string | null,
  detail: Record<string, unknown> = {},
): void {
  auditTrail(db).append({ ...actorOf(req), action, target, detail });
}

/**
 * Video views arrive as a snapshot poll every second from each open tile: one audit record
 * per user, camera and 10 minutes says who watched without flooding the trail.
 */
const lastView = new WeakMap<Database, Map<string, number>>();
export function auditView(db: Database, req: FastifyRequest, action: string, target: string, windowMs = 10 * 60_000): void {
  let m = lastView.get(db);
  if (!m) {
    m = new Map();
    lastView.set(db, m);
  }
  const key = `${req.auth?.user.id ?? '-'}|${action}|${target}`;
  const now = Date.now();
  const last = m.get(key);
  if (last !== undefined && now - last < windowMs) return;
  m.set(key, now);
  audit(db, req, action, target);
}
