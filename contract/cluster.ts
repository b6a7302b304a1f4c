import { z } from 'zod';

/** Core replicas and who runs each timer-driven job (docs/scale.md). */

export const ClusterLease = z.strictObject({
  /** The job: escalation, webhook-outbox, retention, audit-checkpoints. */
  name: z.string(),
  /** The replica holding it. */
  holder: z.string(),
  /** Until when it holds it without renewing; in the past: its holder is gone, another takes it at its next try. */
  expiresAt: z.string(),
  renewedAt: z.string(),
  acquiredAt: z.string(),
  /** Changes of holder so far (1: never changed hands). */
  fence: z.number().int().min(1),
});
export type ClusterLease = z.infer<typeof ClusterLease>;

export const ClusterStatus = z.strictObject({
  /** The replica that answered. */
  replicaId: z.string(),
  /** False: one process without Redis; every job runs in it. */
  clustered: z.boolean(),
  /** Jobs running in the replica that answered. */
  owned: z.array(z.string()),
  /** Every lease in the shared database (empty for a cluster of one). */
  leases: z.array(ClusterLease),
});
export type ClusterStatus = z.infer<typeof ClusterStatus>;

export const clusterRoutes = {
  cluster: { method: 'GET', path: '/api/v1/cluster', response: ClusterStatus, roles: ['admin', 'technician'] },
} as const;
