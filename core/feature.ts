import type { FastifyInstance } from 'fastify';
import type { Server as IoServer } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract';
import type { AlertStore } from './alerts/store';
import type { Cluster } from './cluster';
import type { Config } from './config';
import type { Database } from './db/database';
import type { EventBus } from './events/bus';
import type { Lifecycle } from './lifecycle';
import type { Logger } from './logger';
import type { AssetsStatus } from '../contract';

export type SentinelIo = IoServer<ClientToServerEvents, ServerToClientEvents>;

/** What every feature module receives from the core when it is wired in. */
export interface CoreContext {
  config: Config;
  db: Database;
  log: Logger;
  bus: EventBus;
  /** The one writer of alerts (persist with its log event and incident, then publish). Same as lifecycle.alerts. */
  alerts: AlertStore;
  /** The alert lifecycle's services (log, incidents, acknowledgement rule, delivery, outbox), built in core/app.ts. */
  lifecycle: Lifecycle;
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
 * A feature plugs routes, socket handlers and background services into the core. Features
 * are listed in core/app.ts; each lives in its own folder (cameras, incidents, feeds...).
 */
export interface Feature {
  name: string;
  register(ctx: CoreContext): Promise<void> | void;
}
