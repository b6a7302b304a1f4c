import Fastify from 'fastify';
import { Server as IoServer } from 'socket.io';
import { SOCKET_PATH } from '../contract';
import { privacyMasks, type Point } from '../contract/zones';
import { ZoneStore } from './analytics/store';
import { checkAssets } from './assets';
import { alertDeliveryFeature } from './alerts/deliver';
import { analyticsFeature } from './analytics';
import { authFeature } from './auth';
import { camerasFeature } from './cameras';
import { startCluster, type Cluster } from './cluster';
import { clusterFeature } from './cluster/feature';
import { nodesFeature } from './nodes/feature';
import type { Config } from './config';
import { prepareDataDir } from './data-dir';
import type { Database } from './db/database';
import { openData } from './db/open';
import type { SqlDb } from './db/sql';
import { SentinelError } from './errors';
import { EventBus } from './events/bus';
import { createFeeds, feedsFeature, type Feeds } from './feeds/feature';
import type { CoreContext, Feature, SentinelIo } from './feature';
import { healthFeature } from './health';
import { incidentsFeature } from './incidents';
import { Audit } from './audit';
import type { UserStore } from './auth/store';
import { CameraScopes, visibilityGate } from './access';
import type { CameraService } from './cameras';
import { CameraCatalog } from './cameras/catalog';
import { CameraRepository } from './cameras/repository';
import { CredentialVault } from './cameras/secrets';
import { auditFeature } from './audit/feature';
import { reviewFeature, ReviewStore } from './review';
import { evidenceRefs } from './cameras/evidence';
import { smsFeature, type SmsServices } from './sms';
import { statisticsFeature } from './statistics';
import { serveConsole } from './http/console';
import { installErrorHandling, refuseNulCharacters } from './http/errors';
import { buildLifecycle, type Lifecycle } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { realtimeFeature } from './realtime';
import { ClipStore } from './recording/clips';

/** The services the features hand back, for tests, benchmarks and the CLI (no lookup by database handle). */
export interface CoreServices {
  audit: Audit;
  users: UserStore;
  feeds: Feeds;
  cameras: CameraService;
  cameraRepo: CameraCatalog;
  review: ReviewStore;
  sms: SmsServices;
}

/**
 * The core's features, wired in one place, in order: each gets the core context plus the
 * services it declares (`Feature<Needs, Provides>`) and returns the ones it provides, so a
 * feature given less than it needs does not compile. Order still matters where Fastify
 * does: auth first (its hooks and route check must see every route), then the rest.
 */
async function registerFeatures(ctx: CoreContext, log: Logger): Promise<Omit<CoreServices, 'audit'>> {
  const run = <N extends object, P>(f: Feature<N, P>, needs: N): Promise<P> | P =>
    f.register({ ...ctx, ...needs, log: log.child({ name: f.name }) });
  // Built before the features: the visibility rule (auth's gate, camera sockets) places cameras
  // with the camera records and the city's geography.
  const feeds = createFeeds(ctx);
  const cameraRepo = new CameraCatalog(
    new CameraRepository(ctx.sql, new CredentialVault(ctx.config.dataDir, ctx.config.keyProtection, ctx.log)),
    log.child({ name: 'camera-catalog' }),
  );
  await cameraRepo.load();
  ctx.onClose(await cameraRepo.follow(ctx.cluster));
  const scopes = new CameraScopes(cameraRepo, feeds);
  const review = new ReviewStore(ctx.sql, {
    replicaId: ctx.cluster.replicaId,
    onError: (err) => log.warn({ err }, 'cannot renew the heartbeat of the evidence exports being built; retrying'),
  });
  const gate = visibilityGate({ lifecycle: ctx.lifecycle, clips: new ClipStore(ctx.sql), scopes, log: log.child({ name: 'access' }) });
  // The analytics own the zones; cameras (snapshots) and review (public copies) read the privacy masks among them.
  const zones = new ZoneStore(ctx.sql);
  const masksOf = async (cameraId: string): Promise<Point[][]> => privacyMasks(await zones.list(cameraId));

  const { users } = await run(authFeature, { gate });
  await run(auditFeature, {});
  const { status } = await run(healthFeature, {});
  await run(realtimeFeature, { status });
  await run(feedsFeature, { feeds });
  const { cameras } = await run(camerasFeature, {
    cameraRepo,
    scopes,
    feeds,
    users,
    status,
    evidenceRefs: evidenceRefs(ctx.lifecycle, review),
    privacyMasks: masksOf,
  });
  await run(alertDeliveryFeature, {});
  await run(incidentsFeature, {});
  await run(analyticsFeature, { cameras, cameraRepo, feeds, zones });
  await run(nodesFeature, { cameras, cameraRepo, feeds, zones });
  await run(reviewFeature, { cameras, review, privacyMasks: masksOf });
  const { sms } = await run(smsFeature, { cameraRepo, feeds });
  await run(statisticsFeature, {});
  await run(clusterFeature, {});
  return { users, feeds, cameras, cameraRepo, review, sms };
}

export interface CoreHandle {
  config: Config;
  /** The better-sqlite3 handle when the core runs on SQLite (tests read tables through it), null on Postgres. */
  db: Database | null;
  sql: SqlDb;
  log: Logger;
  bus: EventBus;
  io: SentinelIo;
  /** The alert lifecycle's services (tests and benchmarks reach the push service, the outbox... here). */
  lifecycle: Lifecycle;
  /** This replica's place in a cluster (a cluster of one without Redis). */
  cluster: Cluster;
  /** The features' services (the camera service, the user store, the audit trail...). */
  services: CoreServices;
  /** The URL the core listens on (with the real port when 0 was asked for). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Extra features (tests): `before` the core's own (e.g. to see every route), `after` them. */
  before?: readonly Feature[];
  after?: readonly Feature[];
}

/**
 * Starts the core: data directory, database, HTTP API, socket.io, the console, and every
 * feature. Fails fast with a SentinelError (one clear line) on a bad data directory, a
 * corrupt database or an occupied port, and undoes whatever it had started.
 */
export async function startCore(config: Config, opts: StartOptions = {}): Promise<CoreHandle> {
  const log = opts.log ?? createLogger(config.log.level);
  prepareDataDir(config.dataDir);
  // Recordings, keys and exports stay in the data directory on either database.
  const sqlDb = await openData(config, { log: log.child({ name: 'db' }), create: true });
  const closers: Array<() => Promise<void> | void> = [() => sqlDb.close()];
  const runClosers = async (): Promise<void> => {
    for (const fn of closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      }
    }
  };

  try {
    const http = Fastify({ logger: false, bodyLimit: 1024 * 1024, forceCloseConnections: true });
    installErrorHandling(http, log.child({ name: 'http' }));
    refuseNulCharacters(http);
    const io: SentinelIo = new IoServer(http.server, { path: SOCKET_PATH, serveClient: false, cors: { origin: false } });
    closers.push(() => http.close());
    closers.push(() => new Promise<void>((resolve) => void io.close(() => resolve())));
    const bus = new EventBus(log.child({ name: 'bus' }));
    const assets = checkAssets(config.assetsDir);
    if (!assets.ok) {
      log.warn({ assetsDir: assets.dir, missing: assets.missing.map((m) => m.path) }, 'assets missing: some capabilities are unavailable');
    }
    const audit = new Audit(sqlDb);
    const cluster = await startCluster({ config, sql: sqlDb, io, log: log.child({ name: 'cluster' }) });
    // Redis closes after the features (they may still emit while stopping), before the database.
    closers.push(() => cluster.close());
    const lifecycle = buildLifecycle({ config, db: sqlDb, bus, io, audit: audit.trail, log });
    // Retry timers of alert writes stop last-but-one (the database closes last).
    closers.push(() => lifecycle.alerts.close());
    if (cluster.clustered) {
      // Every replica reads every replica's lifecycle events from the shared log (docs/scale.md).
      lifecycle.log.setAnnouncer((seq) => cluster.announce(seq));
      cluster.onAnnounce(() => void lifecycle.log.flush());
      closers.push(lifecycle.log.follow(config.cluster.followEveryMs));
    }
    const ctx: CoreContext = {
      config,
      sql: sqlDb,
      log,
      bus,
      alerts: lifecycle.alerts,
      lifecycle,
      audit,
      http,
      io,
      assets,
      cluster,
      startedAt: new Date(),
      onClose: (fn) => void closers.push(fn),
    };
    for (const f of opts.before ?? []) await f.register({ ...ctx, log: log.child({ name: f.name }) });
    const services: CoreServices = { audit, ...(await registerFeatures(ctx, log)) };
    for (const f of opts.after ?? []) await f.register({ ...ctx, log: log.child({ name: f.name }) });
    await serveConsole(http);

    try {
      await http.listen({ host: config.server.host, port: config.server.port });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE')
        throw new SentinelError(`port ${config.server.port} on ${config.server.host} is already in use; choose another with --port`);
      if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
        throw new SentinelError(`cannot listen on host "${config.server.host}": no such local address`);
      if (e.code === 'EACCES') throw new SentinelError(`permission denied to listen on ${config.server.host}:${config.server.port}`);
      throw err;
    }
    const addr = http.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
    const hostForUrl = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
    const url = `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port}/`;
    log.info({ url, dataDir: config.dataDir, assetsDir: config.assetsDir }, 'sentinel core listening');
    let closing: Promise<void> | null = null;
    return {
      config,
      db: sqlDb.sqlite,
      sql: sqlDb,
      log,
      bus,
      io,
      lifecycle,
      cluster,
      services,
      url,
      port,
      close: () => {
        closing ??= (async () => {
          bus.emit('core:shutdown');
          await runClosers();
        })();
        return closing;
      },
    };
  } catch (err) {
    await runClosers();
    throw err;
  }
}
