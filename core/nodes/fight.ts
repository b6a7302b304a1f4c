import { z } from 'zod';
import { BUILTIN_FIGHT_MODEL, NodeFightState, type NodeModelState } from '../../contract';
import type { InferencePool } from '../../analytics/inference';
import type { FightChoice } from '../analytics/models';
import { LeaseStore } from '../cluster/leases';
import type { SqlDb } from '../db/sql';
import type { Logger } from '../logger';

/** What opening a fight classifier gave: the proven pool, or why it was refused (core/analytics/models.ts openFightModel). */
export type FightOpener = (name: string) => Promise<{ ok: true; pool: InferencePool } | { ok: false; reason: string }>;

/**
 * An analytics node's fight classifier, following the core's choice (NodeAssignment.fightModel)
 * heartbeat by heartbeat. A clip model is opened and proven from the node's own registry
 * before it takes over (the same openFightModel the core's ModelManager uses); the runners ask
 * `choice()` for every window, so the swap needs no restart. A model that fails to open or
 * verify is refused with the reason, reported in the heartbeat, and the one running stays; it
 * is tried again only when the core's choice changes (not at every heartbeat).
 */
export class NodeFightModel {
  /** The core's choice as last received. */
  private wanted = BUILTIN_FIGHT_MODEL;
  private running = BUILTIN_FIGHT_MODEL;
  private pool: InferencePool | null = null;
  private problem: string | null = null;
  /** Swaps happen one at a time, in the order the choices came. */
  private queue: Promise<void> = Promise.resolve();
  private readonly retiring = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly open: FightOpener,
    private readonly log: Logger,
  ) {}

  /** The core's choice from a heartbeat answer (null: the built-in classifier). */
  follow(model: string | null): void {
    const name = model ?? BUILTIN_FIGHT_MODEL;
    if (name === this.wanted || this.closed) return;
    this.wanted = name;
    this.problem = null;
    this.queue = this.queue.then(() => this.swap(name));
  }

  /** Resolves once every choice received so far is taken over or refused. */
  settled(): Promise<void> {
    return this.queue;
  }

  private async swap(name: string): Promise<void> {
    // A newer choice came while this one waited: that one is what counts.
    if (name !== this.wanted || this.closed || name === this.running) return;
    if (name === BUILTIN_FIGHT_MODEL) {
      this.takeOver(null, name);
      return;
    }
    const r = await this.open(name).catch((err: unknown) => ({ ok: false as const, reason: (err as Error).message }));
    if (!r.ok) {
      if (name === this.wanted) this.problem = r.reason;
      this.log.warn({ model: name, running: this.running, reason: r.reason }, 'fight model refused; keeping the one running');
      return;
    }
    if (this.closed || name !== this.wanted) {
      await r.pool.close();
      return;
    }
    this.takeOver(r.pool, name);
  }

  private takeOver(pool: InferencePool | null, name: string): void {
    const old = this.pool;
    const from = this.running;
    this.pool = pool;
    this.running = name;
    this.problem = null;
    this.log.info({ from, to: name }, 'fight classifier changed');
    // The replaced pool finishes the windows it already holds, then stops.
    if (old) {
      const p = old
        .drain()
        .catch((err: unknown) => this.log.error({ err, model: old.model }, 'closing a replaced fight model failed'))
        .finally(() => this.retiring.delete(p));
      this.retiring.add(p);
    }
  }

  /** What decides fights now (the runners ask for every window). */
  choice(): FightChoice {
    return this.pool ? { kind: 'model', pool: this.pool } : { kind: 'classifier' };
  }

  /** For the heartbeat: what the core asked for, what runs, and why not. */
  state(): NodeFightState {
    return { model: this.wanted, running: this.running, problem: this.problem };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const pool = this.pool;
    this.pool = null;
    await Promise.all([pool?.close(), ...this.retiring]);
  }
}

const NODE_LEASE = 'node:';
const LeaseFight = z.object({ name: z.string(), fight: NodeFightState });

/**
 * What each live node runs as its fight classifier, from the node leases every replica shares
 * (the heartbeat stores the node's report there), for the core's model view.
 */
export async function nodeFightStates(sql: SqlDb, now = Date.now()): Promise<NodeModelState[]> {
  const out: NodeModelState[] = [];
  for (const l of await new LeaseStore(sql).list(NODE_LEASE)) {
    if (l.expiresAtMs <= now) continue;
    const info = LeaseFight.safeParse(l.info);
    if (info.success) out.push({ nodeId: l.holder, nodeName: info.data.name, ...info.data.fight });
  }
  return out.sort((a, b) => a.nodeName.localeCompare(b.nodeName));
}
