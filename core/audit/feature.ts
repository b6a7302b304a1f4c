import { AuditQuery, auditRoutes } from '../../contract';
import { loadOrCreateSigningKey } from '../evidence/keys';
import type { Feature } from '../feature';
import { parseInput } from '../http/errors';
import { AuditCheckpointer, listCheckpoints, verifyAnchored } from './checkpoints';

/**
 * The audit trail's routes (the viewer's list, the anchored check, the checkpoint export)
 * and its checkpoint writer: after every append when the head is far enough past the last
 * checkpoint, on a timer so a quiet installation is still anchored hourly, and at start and
 * shutdown so records written while the core was down (CLI commands) are anchored too.
 */
export const auditFeature: Feature = {
  name: 'audit',
  register(ctx) {
    const { http, sql, config, log } = ctx;
    const trail = ctx.audit.trail;
    let key: ReturnType<typeof loadOrCreateSigningKey> | null = null;
    const signingKey = (): ReturnType<typeof loadOrCreateSigningKey> =>
      (key ??= loadOrCreateSigningKey(config.dataDir, config.keyProtection, log));
    const maxAgeMs = config.audit.checkpointMaxAgeS * 1000;
    const checkpointer = new AuditCheckpointer(
      sql,
      trail,
      signingKey,
      { everyRecords: config.audit.checkpointEveryRecords, maxAgeMs },
      log,
    );
    const unsubscribe = trail.onAppend((r) => void checkpointer.afterAppend(r));
    void checkpointer.maybeCheckpoint(new Date(), true);
    // Checked often enough that "at least every maxAge" holds to within a minute; by one
    // replica at a time (its lease: core/cluster). Appends still checkpoint wherever they run:
    // the checkpoint is written under the audit chain's lock against the shared table.
    ctx.cluster.leases.job('audit-checkpoints', () => {
      const timer = setInterval(() => void checkpointer.maybeCheckpoint(), Math.min(60_000, maxAgeMs));
      timer.unref();
      return () => clearInterval(timer);
    });
    ctx.onClose(async () => {
      unsubscribe();
      await checkpointer.maybeCheckpoint(new Date(), true);
    });

    http.get(auditRoutes.audit.path, async (req) => {
      const q = parseInput(AuditQuery, req.query, 'query');
      const page = await trail.page(q);
      // Reading the trail is itself audited.
      await ctx.audit.record(req, 'audit.read', null, { count: page.records.length, ...q });
      return page;
    });
    http.get(auditRoutes.auditVerify.path, async (req) => {
      const k = signingKey();
      const r = await verifyAnchored(sql, trail, k);
      await ctx.audit.record(req, 'audit.verify', null, { ok: r.ok, firstBroken: r.firstBroken, badCheckpoint: r.badCheckpoint });
      return r;
    });
    http.get(auditRoutes.auditCheckpoints.path, async (req) => {
      const checkpoints = await listCheckpoints(sql);
      await ctx.audit.record(req, 'audit.checkpoints_export', null, { count: checkpoints.length });
      return { checkpoints, keyFingerprint: signingKey().fingerprint };
    });
  },
};
