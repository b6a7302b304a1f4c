import { usePolled } from '../client/usePolled';

const JOB_LABEL: Record<string, string> = {
  escalation: 'Escalation timers',
  'webhook-outbox': 'Dispatch webhook',
  retention: 'Recording retention',
  'audit-checkpoints': 'Audit checkpoints',
  'feed-polling': 'Feed polling (Bus / Train Tracker, GTFS-rt)',
  'evidence-export-sweep': 'Abandoned evidence exports',
};

/** Refreshed this often: a dead replica's lease shows as expired until another takes it (seconds). */
const REFRESH_MS = 3000;

/** The core replicas and which one runs each background job (GET /api/v1/cluster, docs/scale.md). */
export function ClusterPanel() {
  const { data: status, error } = usePolled('cluster', REFRESH_MS);
  if (error) return <p className="tech-cam-err">Cannot read the cluster status: {error}</p>;
  if (!status) return <p className="muted tech-pad">Loading…</p>;
  const now = Date.now();
  return (
    <div className="tech-cluster" data-testid="cluster-panel">
      <p className="muted">
        {status.clustered
          ? `Answered by replica ${status.replicaId}, which runs: ${status.owned.map((j) => JOB_LABEL[j] ?? j).join(', ') || 'no background job'}.`
          : `One core process (${status.replicaId}), no Redis configured: it runs every background job.`}
      </p>
      {status.clustered && (
        <table className="tech-cluster-table" aria-label="Background jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Runs on</th>
              <th scope="col">Lease</th>
              <th scope="col">Handovers</th>
            </tr>
          </thead>
          <tbody>
            {status.leases.map((l) => {
              const left = Math.round((Date.parse(l.expiresAt) - now) / 1000);
              return (
                <tr key={l.name} data-testid="cluster-lease">
                  <td>{JOB_LABEL[l.name] ?? l.name}</td>
                  <td>
                    {l.holder}
                    {l.holder === status.replicaId ? ' (this replica)' : ''}
                  </td>
                  <td className={left > 0 ? '' : 'tech-cam-err'}>{left > 0 ? `renewed, ${left} s left` : 'expired: being taken over'}</td>
                  <td>{l.fence - 1}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
