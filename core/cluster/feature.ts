import { routes, type ClusterStatus } from '../../contract';
import type { Feature } from '../feature';
import { LeaseStore } from './leases';

/** `GET /api/v1/cluster`: this replica, the jobs it runs, and who holds every lease (the technician view). */
export const clusterFeature: Feature = {
  name: 'cluster',
  register(ctx) {
    const store = new LeaseStore(ctx.sql);
    ctx.http.get(routes.cluster.path, async (): Promise<ClusterStatus> => {
      const { cluster } = ctx;
      return {
        replicaId: cluster.replicaId,
        clustered: cluster.clustered,
        owned: cluster.leases.owned(),
        // Alone, jobs run without leases: the table stays empty.
        leases: (await store.list()).map((l) => ({
          name: l.name,
          holder: l.holder,
          expiresAt: new Date(l.expiresAtMs).toISOString(),
          renewedAt: l.renewedAt,
          acquiredAt: l.acquiredAt,
          fence: l.fence,
        })),
      };
    });
  },
};
