import { createAdapter } from '@socket.io/redis-adapter';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createClient } from 'redis';
import type { Config } from '../config';
import type { SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import type { SentinelIo } from '../feature';
import type { Logger } from '../logger';
import { LeaseStore, Leases } from './leases';

export { LeaseStore, Leases, type LeaseRow, type LeasedJob } from './leases';

/** The Redis channel on which a replica says "the lifecycle log moved" (the others read it by cursor). */
const LOG_CHANNEL = 'sentinel:lifecycle';

/**
 * What a core process knows about its siblings. Alone (no Redis configured) it is a cluster
 * of one: every leased job runs here and nothing is published.
 */
export interface Cluster {
  /** This process's name in leases and logs (host, pid, random suffix: a restarted process is a new holder). */
  replicaId: string;
  /** True with Redis: other replicas share the database and the socket.io rooms. */
  clustered: boolean;
  leases: Leases;
  /** Tells the other replicas that this one committed lifecycle events up to `seq`. */
  announce(seq: number): void;
  /** Called when another replica announced new lifecycle events. */
  onAnnounce(fn: () => void): void;
  /**
   * Sends a small JSON message to the other replicas on the Redis channel `sentinel:<topic>`.
   * Fire and forget: while Redis is away it is dropped (a topic's users must tolerate a gap).
   */
  publish(topic: string, payload: unknown): void;
  /** Receives the other replicas' messages on a topic (never this replica's own). */
  subscribe(topic: string, fn: (payload: unknown, from: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** A Redis URL for logs and errors: never its password. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** How long the first connection to Redis may take before the core refuses to start. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Joins the cluster when `cluster.redisUrl` (or SENTINEL_REDIS_URL) is set: socket.io gets
 * the Redis adapter (`@socket.io/redis-adapter`, the kept library for rooms across servers:
 * an `io.to(room).emit` on any replica reaches that room's sockets on every replica), leases
 * come from the shared database, and a Redis channel carries "the log moved" notices.
 * Unreachable Redis at start is a SentinelError naming the URL (without its password); a
 * later outage is logged and node-redis reconnects by itself while each replica keeps
 * serving its own sockets (it also polls the shared log, so nothing is lost meanwhile).
 */
export async function startCluster(d: { config: Config; sql: SqlDb; io: SentinelIo; log: Logger }): Promise<Cluster> {
  const log = d.log;
  const c = d.config.cluster;
  const replicaId = c.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leaseOpts = { ttlMs: c.leaseTtlS * 1000, renewEveryMs: Math.max(200, Math.round((c.leaseTtlS * 1000) / 3)) };
  if (!c.redisUrl) {
    const leases = new Leases(null, replicaId, leaseOpts, log.child({ name: 'leases' }));
    return {
      replicaId,
      clustered: false,
      leases,
      announce: () => undefined,
      onAnnounce: () => undefined,
      publish: () => undefined,
      subscribe: async () => undefined,
      close: () => leases.close(),
    };
  }

  const where = safeRedisUrl(c.redisUrl);
  let ready = false;
  const pub = createClient({
    url: c.redisUrl,
    // RESP2: the adapter parses PUBSUB NUMSUB replies as arrays.
    RESP: 2,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // At start, give up quickly with a clear error; once running, keep trying (capped backoff).
      reconnectStrategy: (retries: number) =>
        ready ? Math.min(100 * 2 ** retries, 5000) : retries >= 2 ? new Error('gave up connecting') : 250,
    },
  });
  const sub = pub.duplicate();
  let lastError = '';
  for (const [role, client] of [
    ['publisher', pub],
    ['subscriber', sub],
  ] as const) {
    // node-redis emits 'error' on every failed attempt; without a listener it would crash the core.
    client.on('error', (err: Error) => {
      lastError = err.message;
      if (ready) log.warn({ redis: where, role, err: err.message }, 'redis connection problem; reconnecting');
    });
    client.on('ready', () => ready && log.info({ redis: where, role }, 'redis connection back'));
  }
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (err) {
    for (const client of [pub, sub]) {
      try {
        client.destroy();
      } catch {
        // never connected: nothing to close
      }
    }
    throw new SentinelError(
      `cannot connect to Redis at ${where} (cluster.redisUrl / SENTINEL_REDIS_URL): ${lastError || (err as Error).message}`,
      'unavailable',
      'cluster.redisUrl',
    );
  }
  ready = true;
  d.io.adapter(createAdapter(pub, sub, { key: 'sentinel', requestsTimeout: 3000 }));

  const listeners: (() => void)[] = [];
  await sub.subscribe(LOG_CHANNEL, (message: string) => {
    // Our own notices come back too: the log reader is already up to date with them.
    if (message.startsWith(`${replicaId} `)) return;
    for (const fn of listeners) fn();
  });
  const leases = new Leases(new LeaseStore(d.sql), replicaId, leaseOpts, log.child({ name: 'leases' }));
  log.info({ redis: where, replicaId, leaseTtlS: c.leaseTtlS }, 'joined the cluster');
  return {
    replicaId,
    clustered: true,
    leases,
    announce: (seq) => {
      if (!pub.isReady) return; // the others' periodic read of the log covers the outage
      pub.publish(LOG_CHANNEL, `${replicaId} ${seq}`).catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 'cannot announce lifecycle events; the other replicas read them at their next poll');
      });
    },
    onAnnounce: (fn) => void listeners.push(fn),
    publish: (topic, payload) => {
      if (!pub.isReady) return;
      pub.publish(`sentinel:${topic}`, JSON.stringify({ from: replicaId, payload })).catch((err: unknown) => {
        log.warn({ err: (err as Error).message, topic }, 'cannot publish to the other replicas');
      });
    },
    subscribe: (topic, fn) =>
      sub.subscribe(`sentinel:${topic}`, (message: string) => {
        let m: { from?: unknown; payload?: unknown };
        try {
          m = JSON.parse(message) as typeof m;
        } catch {
          return void log.warn({ topic }, 'a message on a cluster topic is not JSON; ignored');
        }
        if (typeof m.from !== 'string' || m.from === replicaId) return;
        fn(m.payload, m.from);
      }),
    close: async () => {
      await leases.close();
      ready = false;
      await Promise.allSettled([sub.close(), pub.close()]);
    },
  };
}
