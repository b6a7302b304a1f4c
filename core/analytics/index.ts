import { join } from 'node:path';
import type { Zone } from '../../contract/zones';
import { openModel, openRegistry, type InferencePool } from '../../analytics/inference';
import type { CameraService } from '../cameras';
import type { CameraRepository } from '../cameras/repository';
import type { Feature } from '../feature';
import type { Feeds } from '../feeds/feature';
import { registerAnalyticsRoutes } from './routes';
import type { GateOptions } from '../../analytics/motion/gate';
import { CameraRunner, type AnalysedCamera } from './runner';
import { alertScope, vehicleSpeed } from './scope';
import type { ZoneStore } from './store';
import { OccupancyStore } from './store';
import { DEMO_ZONES } from './demo-zones';

/** How often the set of analysed cameras is re-read (a camera added, analytics switched on). */
const REFRESH_MS = 3000;

/**
 * Live analytics: for every camera with analytics enabled and at least one zone, runs the
 * pipeline (detect -> track -> zones -> rules) on its analysis frames, persists alerts
 * through the alert store (which publishes them on the bus), keeps the occupancy series,
 * and serves alerts, snapshots, zones and occupancy over REST (routes.ts).
 */
export interface AnalyticsNeeds {
  /** Frames come from the cameras' ingest; analysis health goes back onto each camera's. */
  cameras: CameraService;
  /** Which cameras to analyse, and where they are. */
  cameraRepo: CameraRepository;
  feeds: Feeds;
  /** The zones repository (this feature's table; built in core/app.ts, where others read the privacy masks). */
  zones: ZoneStore;
}

export const analyticsFeature: Feature<AnalyticsNeeds> = {
  name: 'analytics',
  async register(ctx) {
    const { db, log, config, cameras, cameraRepo, feeds, zones } = ctx;
    const occupancy = new OccupancyStore(db);
    const snapshotsDir = join(config.dataDir, 'alert-snapshots');
    const runners = new Map<string, CameraRunner>();
    let pool: InferencePool | null = null;
    let fightPool: InferencePool | null = null;
    let poolState: 'none' | 'opening' | 'ready' | 'unavailable' = 'none';
    let closed = false;

    const readCameras = (): AnalysedCamera[] =>
      cameraRepo
        .list()
        .filter((c) => c.analyticsEnabled)
        .map((c) => ({ id: c.id, name: c.name, mount: c.mount, location: c.location }));

    // Demo cameras get zones that make the demo footage raise real alerts (docs/analytics.md).
    if (config.demo) {
      for (const c of cameraRepo.list()) {
        if (!c.demo) continue;
        const preset = DEMO_ZONES[c.url.split('/').pop() ?? ''];
        if (preset && zones.list(c.id).length === 0) zones.replace(c.id, preset);
      }
    }

    const scopeOf = (c: AnalysedCamera) => alertScope(c.mount, c.location, feeds.geo, feeds.service);

    const ensurePool = async (): Promise<InferencePool | null> => {
      if (pool || poolState === 'unavailable' || poolState === 'opening') return pool;
      poolState = 'opening';
      const registry = openRegistry({ modelsDir: config.inference.modelsDir, assetsDir: config.assetsDir });
      const name = config.analytics.model ?? config.inference.defaultModel;
      const opened = await openModel(registry, name, config.inference, log);
      if (closed) {
        if (opened.state === 'ready') await opened.pool.close();
        return null;
      }
      if (opened.state === 'ready') {
        pool = opened.pool;
        poolState = 'ready';
        log.info({ model: name }, 'analytics model ready');
        const fightName = config.analytics.fightModel;
        if (fightName) {
          // A fight model that cannot run leaves the trained clip classifier in charge, said once in the log.
          const fm = registry.get(fightName);
          if (fm && fm.task !== 'classify-clip') {
            log.warn(
              { model: fightName, task: fm.task },
              'analytics.fightModel is not a clip classifier (task classify-clip); using the trained clip classifier',
            );
          } else {
            const f = await openModel(registry, fightName, { ...config.inference, workers: 1 }, log);
            if (f.state === 'ready') fightPool = f.pool;
            else log.warn({ model: fightName, reason: f.status.message }, 'fight model unavailable; using the trained clip classifier');
          }
        }
      } else {
        poolState = 'unavailable';
        log.warn({ model: name, reason: opened.status.message }, 'analytics disabled: person detector unavailable');
      }
      return pool;
    };

    const motion = config.analytics.motion;
    const gateOf = (cameraId: string): GateOptions => ({
      enabled: motion.enabled,
      threshold: motion.threshold,
      keepAliveMs: motion.keepAliveS * 1000,
      holdMs: motion.holdS * 1000,
      masks: motion.masks[cameraId] ?? [],
    });

    /** Brings the runners in line with the cameras and their zones. */
    const refresh = async (): Promise<void> => {
      if (closed || !config.analytics.enabled) return;
      const wanted = new Map<string, { cam: AnalysedCamera; zones: Zone[] }>();
      for (const cam of readCameras()) {
        const z = zones.list(cam.id);
        if (z.length) wanted.set(cam.id, { cam, zones: z });
      }
      for (const [id, r] of runners) {
        if (!wanted.has(id)) {
          r.close();
          runners.delete(id);
        }
      }
      if (wanted.size === 0) return;
      const p = await ensurePool();
      if (!p || closed) return;
      for (const [id, w] of wanted) {
        const r = runners.get(id);
        if (r) {
          r.camera = w.cam;
          if (JSON.stringify(r.zones) !== JSON.stringify(w.zones)) r.setZones(w.zones);
          continue;
        }
        runners.set(
          id,
          new CameraRunner(w.cam, w.zones, p, {
            alerts: ctx.alerts,
            occupancy,
            snapshotsDir,
            log,
            scope: scopeOf,
            speedOf: (c) => vehicleSpeed(c.mount, feeds.service),
            sampleEveryMs: config.analytics.sampleEveryS * 1000,
            fightPool,
            gate: gateOf(id),
            onAnalysed: (frame) => ctx.bus.emit('analytics:frame', frame),
          }),
        );
        log.info({ cameraId: id, zones: w.zones.map((z) => z.id) }, 'analytics running');
      }
    };

    const unsubscribe = cameras.onFrame((f) => runners.get(f.cameraId)?.onFrame(f));
    cameras.setAnalysisSource((id) => runners.get(id)?.health() ?? null);

    registerAnalyticsRoutes(ctx, {
      zones,
      occupancy,
      cameraRepo,
      onZonesChanged: () => void refresh().catch((err: unknown) => log.error({ err }, 'analytics refresh failed')),
    });

    const timer = setInterval(() => void refresh().catch((err: unknown) => log.error({ err }, 'analytics refresh failed')), REFRESH_MS);
    timer.unref();
    const sweep = setInterval(() => {
      try {
        occupancy.sweep(Date.now() - config.analytics.occupancyRetentionHours * 3_600_000);
      } catch (err) {
        log.error({ err }, 'occupancy sweep failed');
      }
    }, 600_000);
    sweep.unref();
    ctx.onClose(async () => {
      closed = true;
      clearInterval(timer);
      clearInterval(sweep);
      unsubscribe();
      cameras.setAnalysisSource(null);
      for (const r of runners.values()) r.close();
      runners.clear();
      await pool?.close();
      await fightPool?.close();
    });
    await refresh();
  },
};
