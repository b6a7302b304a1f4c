import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import type { NodesTables } from './tables';

export interface NodeRecord {
  id: string;
  name: string;
  capacity: number;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

type Row = NodesTables['analytics_nodes'];

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
  constructor(private readonly db: SqlDb) {}

  private get q() {
    return this.db.as<NodesTables>();
  }

  /** A new node and its token; the token is returned once and never stored. */
  async create(name: string, capacity: number, createdBy: string, now = new Date()): Promise<{ node: NodeRecord; token: string }> {
    if (await this.byName(name)) throw new SentinelError(`an analytics node named "${name}" already exists`, 'conflict', 'name');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const row = await this.q
      .insertInto('analytics_nodes')
      .values({
        id: randomUUID(),
        name,
        token_hash: hashOf(token),
        capacity,
        created_at: now.toISOString(),
        created_by: createdBy,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { node: toRecord(row), token };
  }

  /** The node a token belongs to, or null for an unknown or revoked token: one lookup on the unique token_hash index. */
  async verify(token: string): Promise<NodeRecord | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const h = hashOf(token);
    const r = await this.q.selectFrom('analytics_nodes').selectAll().where('token_hash', '=', h).executeTakeFirst();
    // The lookup is by hash already; the constant-time compare keeps it so if the index changes.
    if (!r || !timingSafeEqual(Buffer.from(r.token_hash), Buffer.from(h)) || r.revoked_at) return null;
    return toRecord(r);
  }

  async get(id: string): Promise<NodeRecord | null> {
    const r = await this.q.selectFrom('analytics_nodes').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async byName(name: string): Promise<NodeRecord | null> {
    const r = await this.q.selectFrom('analytics_nodes').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async list(): Promise<NodeRecord[]> {
    return (await this.q.selectFrom('analytics_nodes').selectAll().orderBy('name').execute()).map(toRecord);
  }

  /** Revokes a node's token for good (a new token is a new node); revoking twice keeps the first time. */
  async revoke(id: string, now = new Date()): Promise<NodeRecord> {
    await this.q
      .updateTable('analytics_nodes')
      .set({ revoked_at: now.toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    const n = await this.get(id);
    if (!n) throw new SentinelError(`no analytics node with id ${id}`, 'not_found', 'id');
    return n;
  }
}
