import type { FastifyRequest } from 'fastify';
import type { AuditRecord } from '../../contract';
import type { Executor, SqlDb } from '../db/sql';
import { AuditTrail, type AuditEntry } from './trail';

export { AuditTrail, canonicalJson, GENESIS_HASH, type AuditEntry, type VerifyResult } from './trail';

/** The signed-in user behind a request (set by the auth hook), as audit fields. */
export function actorOf(req: FastifyRequest): Pick<AuditEntry, 'actorId' | 'actor' | 'ip'> {
  const user = req.auth?.user;
  return { actorId: user?.id ?? null, actor: user?.username ?? null, ip: req.ip };
}

/**
 * The core's audit service: one per running core (built in core/app.ts, on the context as
 * `ctx.audit`), over the one trail of its database. A second AuditTrail on the same database
 * would be safe (each append reads the chain's head in its transaction) but the view
 * de-duplication below must be shared, hence one instance handed to every feature.
 */
export class Audit {
  readonly trail: AuditTrail;
  private readonly lastView = new Map<string, number>();
  constructor(db: SqlDb) {
    this.trail = new AuditTrail(db);
  }

  /** Appends an entry not tied to a request (the system's, a CLI command's). */
  append(entry: AuditEntry, ex?: Executor): Promise<AuditRecord> {
    return this.trail.append(entry, ex);
  }

  /** Audits a request's action, as the signed-in user behind it. */
  async record(req: FastifyRequest, action: string, target: string | null, detail: Record<string, unknown> = {}): Promise<void> {
    await this.trail.append({ ...actorOf(req), action, target, detail });
  }

  /**
   * Video views arrive as a snapshot poll every second from each open tile: one audit record
   * per user, camera and 10 minutes says who watched without flooding the trail.
   */
  async view(req: FastifyRequest, action: string, target: string, windowMs = 10 * 60_000): Promise<void> {
    const key = `${req.auth?.user.id ?? '-'}|${action}|${target}`;
    const now = Date.now();
    const last = this.lastView.get(key);
    if (last !== undefined && now - last < windowMs) return;
    this.lastView.set(key, now);
    await this.record(req, action, target);
  }
}
