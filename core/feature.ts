import type { FastifyInstance } from 'fastify';
import type { Server as IoServer } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract';
import type { AlertStore } from './alerts/store';
import type { Audit } from './audit';
import type { Cluster } from './cluster';
import type { Config } from './config';
import type { SqlDb } from './db/sql';
import type { EventBus } from './events/bus';
import type { Lifecycle } from './lifecycle';
import type { Logger } from './logger';
import type { AssetsStatus } from '../contract';

export type SentinelIo = IoServer<ClientToServerEvents, ServerToClientEvents>;

/** What every feature module receives from the core when it is wired in. */
export interface CoreContext {
  config: Config;
  /** The database through Kysely, SQLite or Postgres: what repositories query. */
  sql: SqlDb;
  log: Logger;
  bus: EventBus;
  /** The one writer of alerts (persist with its log event and incident, then publish). Same as lifecycle.alerts. */
  alerts: AlertStore;
  /** The alert lifecycle's services (log, incidents, acknowledgement rule, delivery, outbox), built in core/app.ts. */
  lifecycle: Lifecycle;
  /** The audit trail of this core's database (who did what), built in core/app.ts. */
  audit: Audit;
  http: FastifyInstance;
  io: SentinelIo;
  assets: AssetsStatus;
  /** Sibling replicas (core/cluster): run a timer-driven job through `cluster.leases.job` so one process runs it. */
  cluster: Cluster;
  startedAt: Date;
  /** Registers a cleanup that runs on shutdown, in reverse order of registration. */
  onClose(fn: () => Promise<void> | void): void;
}

/**
 * A feature plugs routes, socket handlers and background services into the core. Each lives
 * in its own folder (cameras, incidents, feeds...) and declares, as types, the services it
 * needs besides the core context (`Needs`) and the ones it hands back (`Provides`):
 * core/app.ts passes them from one feature to the next, so a missing one is a type error.
 */
export interface Feature<Needs extends object = object, Provides = void> {
  name: string;
  register(ctx: CoreContext & Needs): Promise<Provides> | Provides;
}
