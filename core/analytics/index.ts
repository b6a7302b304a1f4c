import { join } from 'node:path';
import { CameraMount, GeoPoint } from '../../contract';
import type { Zone } from '../../contract/zones';
import { openModel, openRegistry, type InferencePool } from '../../analytics/inference';
import { cameraServices } from '../cameras';
import type { CoreContext, Feature } from '../feature';
import { feedsOf } from '../feeds/feature';
import { registerAnalyticsRoutes } from './routes';
import type { GateOptions } from '../../analytics/motion/gate';
import { CameraRunner, type AnalysedCamera } from './runner';
import { alertScope, vehicleSpeed } from './scope';
import { OccupancyStore, ZoneStore } from './store';
import { DEMO_ZONES } from './demo-zones';

interface CameraRow {
  id: string;
  name: string;
  url: string;
  mount: string;
  location: string | null;
  analytics_enabled: number;
  demo: number;
}

/** How often the set of analysed cameras is re-read (a camera added, analytics switched on). */
const REFRESH_MS = 3000;

/**
 * Live analytics: for every camera with analytics enabled and at least one zone, runs the
 * pipeline (detect -> track -> zones -> rules) on its analysis frames, persists alerts
 * through the alert store (which publishes them on the bus), keeps the occupancy series,
 * and serves alerts, snapshots, zones and occupancy over REST (routes.ts).
 */
export const analyticsFeature: Feature = {
  name: 'analytics',
  async register(ctx: CoreContext) {
    const { db, log, config } = ctx;
    const zones = new ZoneStore(db);
    const occupancy = new OccupancyStore(db);
    const snapshotsDir = join(config.dataDir, 'alert-snapshots');
    const runners = new Map<string, CameraRunner>();
    let pool: InferencePool | null = null;
    let fightPool: InferencePool | null = null;
    let poolState: 'none' | 'opening' | 'ready' | 'unavailable' = 'none';
    let closed = false;

    const readCameras = (): AnalysedCamera[] => {
      const rows = db
        .prepare('SELECT id, name, url, mount, location, analytics_enabled, demo FROM cameras ORDER BY name')
        .all() as CameraRow[];
      return rows
        .filter((r) => r.analytics_enabled === 1)
        .map((r) => ({
          id: r.id,
          name: r.name,
          mount: CameraMount.parse(JSON.parse(r.mount)),
          location: r.location ? GeoPoint.parse(JSON.parse(r.location)) : null,
        }));
    };

    // Demo cameras get zones that make the demo footage raise real alerts (docs/analytics.md).
    if (config.demo) {
      const rows = db.prepare('SELECT id, url FROM cameras WHERE demo = 1').all() as Pick<CameraRow, 'id' | 'url'>[];
      for (const r of rows) {
        const stream = r.url.split('/').pop() ?? '';
        const preset = DEMO_ZONES[stream];
        if (preset && zones.list(r.id).length === 0) zones.replace(r.id, preset);
      }
    }

    const scopeOf = (c: AnalysedCamera) => {
      const f = feedsOf(ctx.bus);
      return alertScope(c.mount, c.location, f?.geo ?? null, f?.feeds ?? null);
    };

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
            speedOf: (c) => vehicleSpeed(c.mount, feedsOf(ctx.bus)?.feeds ?? null),
            sampleEveryMs: config.analytics.sampleEveryS * 1000,
            fightPool,
            gate: gateOf(id),
            onAnalysed: (frame) => ctx.bus.emit('analytics:frame', frame),
          }),
        );
        log.info({ cameraId: id, zones: w.zones.map((z) => z.id) }, 'analytics running');
      }
    };

    const cameras = cameraServices.get(db);
    const unsubscribe = cameras?.onFrame((f) => runners.get(f.cameraId)?.onFrame(f));
    cameras?.setAnalysisSource((id) => runners.get(id)?.health() ?? null);
    if (!cameras) log.warn('no camera service: analytics has no frames');

    registerAnalyticsRoutes(ctx, {
      zones,
      occupancy,
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
      unsubscribe?.();
      cameras?.setAnalysisSource(null);
      for (const r of runners.values()) r.close();
      runners.clear();
      await pool?.close();
      await fightPool?.close();
    });
    await refresh();
  },
};
