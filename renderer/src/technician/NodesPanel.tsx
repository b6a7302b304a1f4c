import { useState, type FormEvent } from 'react';
import { nodeFightLine, type NodesStatus } from '../../../contract';
import { useSession } from '../auth/session';
import { call } from '../client/api';
import { usePolled } from '../client/usePolled';

/** Refreshed this often: a dead node's cameras show as "being taken over" until another node claims them. */
const REFRESH_MS = 3000;

/** The analytics nodes' status (GET /api/v1/nodes), polled; null until the first answer. */
export function useNodes(): { status: NodesStatus | null; error: string | null; reload(): void } {
  const { data, error, reload } = usePolled('nodes', REFRESH_MS);
  return { status: data, error, reload };
}

/** Which node runs a camera, for the camera list: its name, "being taken over", or null without nodes. */
export function nodeOf(status: NodesStatus | null, cameraId: string, now = Date.now()): { label: string; stale: boolean } | null {
  if (!status?.enabled) return null;
  const p = status.placements.find((x) => x.cameraId === cameraId);
  if (!p) return { label: 'no node', stale: true };
  return Date.parse(p.expiresAt) > now ? { label: p.nodeName, stale: false } : { label: `${p.nodeName}: being taken over`, stale: true };
}

function AddNode({ onAdded }: { onAdded(): void }) {
  const [name, setName] = useState('');
  const [capacity, setCapacity] = useState('8');
  const [token, setToken] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setError(null);
    void call('nodeCreate', { body: { name, capacity: Number(capacity) } })
      .then((r) => {
        setToken({ name: r.node.name, token: r.token });
        setName('');
        onAdded();
      })
      .catch((err: unknown) => setError((err as Error).message));
  };
  return (
    <form className="tech-node-form" onSubmit={submit} aria-label="Add an analytics node">
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} required pattern="[A-Za-z0-9._\-]{1,64}" />
      </label>
      <label>
        Capacity (cameras){' '}
        <input type="number" min={1} max={10000} value={capacity} onChange={(e) => setCapacity(e.target.value)} required />
      </label>
      <button type="submit" className="tech-primary">
        Issue token
      </button>
      {error && <p className="tech-cam-err">{error}</p>}
      {token && (
        <p data-testid="node-token">
          Token for {token.name}, shown once: <code>{token.token}</code>
          <br />
          <span className="muted">
            Run the node with SENTINEL_NODE_TOKEN=&lt;token&gt; sentinel analytics-node --core {location.origin}/
          </span>
        </p>
      )}
    </form>
  );
}

/** The analytics nodes: which are live, their load and capacity, and (administrators) issuing and revoking tokens. */
export function NodesPanel() {
  const { user } = useSession();
  const { status, error, reload } = useNodes();
  if (error) return <p className="tech-cam-err">Cannot read the analytics nodes: {error}</p>;
  if (!status) return <p className="muted tech-pad">Loading…</p>;
  const admin = user.role === 'admin';
  return (
    <div className="tech-cluster" data-testid="nodes-panel">
      <p className="muted">
        {status.enabled
          ? 'Cameras run on analytics nodes: each claims cameras up to its capacity, spread evenly; a node that stops heartbeating loses them to the others.'
          : 'Cameras run in this core process (analytics.nodes is off). Tokens issued here are used once it is switched on.'}
      </p>
      <table className="tech-cluster-table" aria-label="Analytics nodes">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">State</th>
            <th scope="col">Cameras / capacity</th>
            <th scope="col">Analysed</th>
            <th scope="col">CPU</th>
            <th scope="col">Fight classifier</th>
            {admin && <th scope="col" />}
          </tr>
        </thead>
        <tbody>
          {status.nodes.map((n) => (
            <tr key={n.id} data-testid="node-row">
              <td>{n.name}</td>
              <td className={n.live ? '' : 'tech-cam-err'}>
                {n.revokedAt
                  ? 'revoked'
                  : n.live
                    ? 'live'
                    : n.lastSeenAt
                      ? `gone since ${new Date(n.lastSeenAt).toLocaleTimeString()}`
                      : 'never connected'}
              </td>
              <td>
                {n.cameras.length} / {n.capacity}
              </td>
              <td>{n.live && n.load ? `${n.load.fps.toFixed(1)} fps` : '–'}</td>
              <td>{n.live && n.load ? `${Math.round(n.load.cpu * 100)} %` : '–'}</td>
              <td className={n.live && n.fight?.problem ? 'tech-cam-err' : ''}>{n.live && n.fight ? nodeFightLine(n.fight) : '–'}</td>
              {admin && (
                <td>
                  {!n.revokedAt && (
                    <button
                      type="button"
                      className="ghost-button"
                      onClick={() => {
                        if (window.confirm(`Revoke ${n.name}? It stops at once and its cameras move to the other nodes.`))
                          void call('nodeRevoke', { params: { id: n.id } }).then(reload, reload);
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {status.nodes.length === 0 && <p className="muted">No analytics node has a token yet.</p>}
      {admin && <AddNode onAdded={reload} />}
    </div>
  );
}
