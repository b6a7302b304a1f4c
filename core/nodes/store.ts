import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/database';
import { statementCache } from '../db/statements';
import { SentinelError } from '../errors';

export interface NodeRecord {
  id: string;
  name: string;
  capacity: number;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

interface Row {
  id: string;
  name: string;
  token_hash: string;
  capacity: number;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
}

const toRecord = (r: Row): NodeRecord => ({
  id: r.id,
  name: r.name,
  capacity: r.capacity,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
});

/** Tokens carry a prefix so one pasted in the wrong place (a user's session, a log) is recognisable. */
const TOKEN_PREFIX = 'sn_node_';

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The analytics_nodes table (migration 0020): issuing, checking and revoking node tokens. */
export class NodeStore {
  private readonly q;
  constructor(private readonly db: Database) {
    this.q = statementCache(db);
  }

  /** A new node and its token; the token is returned once and never stored. */
  create(name: string, capacity: number, createdBy: string, now = new Date()): { node: NodeRecord; token: string } {
    if (this.byName(name)) throw new SentinelError(`an analytics node named "${name}" already exists`, 'conflict', 'name');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const id = randomUUID();
    this.q('INSERT INTO analytics_nodes (id, name, token_hash, capacity, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)').run(
      id,
      name,
      hashOf(token),
      capacity,
      now.toISOString(),
      createdBy,
    );
    return { node: this.get(id)!, token };
  }

  /** The node a token belongs to, or null for an unknown or revoked token. */
  verify(token: string): NodeRecord | null {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const h = hashOf(token);
    const r = this.q('SELECT * FROM analytics_nodes WHERE token_hash = ?').get(h) as Row | undefined;
    // The lookup is by hash already; the constant-time compare keeps it so if the index changes.
    if (!r || !timingSafeEqual(Buffer.from(r.token_hash), Buffer.from(h)) || r.revoked_at) return null;
    return toRecord(r);
  }

  get(id: string): NodeRecord | null {
    const r = this.q('SELECT * FROM analytics_nodes WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  byName(name: string): NodeRecord | null {
    const r = this.q('SELECT * FROM analytics_nodes WHERE name = ?').get(name) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  list(): NodeRecord[] {
    return (this.q('SELECT * FROM analytics_nodes ORDER BY name').all() as Row[]).map(toRecord);
  }

  /** Revokes a node's token for good (a new token is a new node). */
  revoke(id: string, now = new Date()): NodeRecord {
    const n = this.get(id);
    if (!n) throw new SentinelError(`no analytics node with id ${id}`, 'not_found', 'id');
    if (!n.revokedAt) this.q('UPDATE analytics_nodes SET revoked_at = ? WHERE id = ?').run(now.toISOString(), id);
    return this.get(id)!;
  }
}
